import type { RouteOptions } from 'fastify';
import { OPENAPI_METHODS, OUTSIDE_THE_SPEC, openApiPath } from '../../src/http/openapi.ts';

export interface SeenRoute {
  method: string;
  url: string;
}

/** An onRoute hook and what it saw: every route Fastify registered, one entry per method. */
export function routeRecorder(): { onRoute: (route: RouteOptions) => void; routes: SeenRoute[] } {
  const routes: SeenRoute[] = [];
  return {
    routes,
    onRoute: (route) => {
      for (const method of [route.method].flat()) routes.push({ method, url: route.url });
    },
  };
}

const outside = ({ method, url }: SeenRoute) =>
  OUTSIDE_THE_SPEC.some((o) => (o.method === '*' || o.method === method) && (o.url === '*' || o.url === url));

type Document = { paths?: Record<string, Record<string, unknown>> };

/** `METHOD url` of each registered route the document does not hold (and is not left out on purpose). */
export function undocumentedRoutes(routes: readonly SeenRoute[], document: Document): string[] {
  return routes
    .filter((route) => !outside(route))
    .filter((route) => {
      const method = route.method.toLowerCase();
      const item = document.paths?.[openApiPath(route)];
      return !(OPENAPI_METHODS as readonly string[]).includes(method) || item?.[method] === undefined;
    })
    .map((route) => `${route.method} ${route.url}`);
}

export interface Operation {
  key: string;
  summary?: string;
  security?: Record<string, unknown>[];
  responses?: Record<string, { content?: Record<string, { schema?: any }> }>;
}

/** Every operation of the document, as `METHOD path`. */
export function operations(document: Document): Operation[] {
  return Object.entries(document.paths ?? {}).flatMap(([path, item]) =>
    Object.entries(item)
      .filter(([method]) => (OPENAPI_METHODS as readonly string[]).includes(method))
      .map(([method, op]) => ({ key: `${method.toUpperCase()} ${path}`, ...(op as object) })),
  );
}

type Response = { description?: string; content?: Record<string, { schema?: any }> };

/**
 * The error codes an error response declares: its `error.code` enum, or, for an HTML
 * page for a browser, the codes its description names.
 */
export function errorCodesOf(response: Response): string[] {
  const schema = response.content?.['application/json']?.schema;
  const codes = schema?.properties?.error?.properties?.code?.enum;
  if (Array.isArray(codes)) return codes;
  if (response.content?.['text/html'])
    return [...(response.description ?? '').matchAll(/`([a-z_]+)`/g)].map((m) => m[1] as string);
  return [];
}
