import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import swagger from '@fastify/swagger';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance, FastifySchema, RouteOptions } from 'fastify';
import { errorResponses } from './schemas.ts';

/** The methods an OpenAPI 3.1 path item can hold; the proxy's QUERY is not among them. */
export const OPENAPI_METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

/**
 * Routes Fastify serves that the document leaves out on purpose, with the reason. The
 * OpenAPI test holds every other registered route to be in the document.
 */
export const OUTSIDE_THE_SPEC: readonly { method: string; url: string; why: string }[] = [
  {
    method: '*',
    url: '/proxy/:tenant/:integration',
    why: 'the same route as /proxy/{tenant}/{integration}/{path} with an empty path',
  },
  { method: 'QUERY', url: '/proxy/:tenant/:integration/*', why: 'OpenAPI 3.1 has no QUERY operation' },
  { method: 'HEAD', url: '*', why: 'Fastify answers HEAD for every GET route; documented by the GET' },
];

const PROXY_WILDCARD = '/proxy/:tenant/:integration/*';

// No usable credential (none stored, needs_reauth, a 401 that outlived refresh): RFC 9457
// problem details with a connect link, the contract's error envelope beside them
// (src/reauth/answers.ts). An MCP JSON-RPC request gets its answer in MCP's own shape.
const REAUTH_PROBLEM = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Literal(401),
    detail: Type.String(),
    code: Type.Literal('reauth_required'),
    connect_url: Type.String({ description: 'GET /connect/{id}: single-use, short-lived.' }),
    confirmation_code: Type.Optional(Type.String()),
    expires_at: Type.String(),
    tenant: Type.String(),
    integration: Type.String(),
    account: Type.String(),
    requestId: Type.String(),
    error: Type.Object({
      code: Type.Unsafe<string>({ type: 'string', enum: ['reauth_required'] }),
      message: Type.String(),
      requestId: Type.String(),
    }),
  },
  { additionalProperties: true },
);

function proxyResponses(): Record<string, unknown> {
  const errors = errorResponses(
    'invalid_name',
    'invalid_path',
    'unauthorized',
    'invalid_token',
    'credential_refresh_failed',
    'forbidden',
    'insufficient_scope',
    'account_not_allowed',
    'unknown_integration',
    'credential_not_found',
    'payload_too_large',
    'credential_undecryptable',
    'internal_error',
    'upstream_unreachable',
    'token_endpoint_unavailable',
    'vault_error',
    'vault_unavailable',
    'issuer_unavailable',
    'upstream_timeout',
  ) as Record<number, Record<string, unknown>>;
  const { description, ...json } = errors[401] ?? {};
  return {
    default: { description: "The upstream's answer, streamed unchanged." },
    ...errors,
    401: {
      description: `${String(description)}; or \`reauth_required\` as problem details with connect_url`,
      content: {
        'application/json': { schema: json },
        'application/problem+json': { schema: REAUTH_PROBLEM },
      },
    },
  };
}

// The proxy's routes carry no schema (a validator on the hot path would cost every
// request); the document describes them here instead.
const PROXY_DOC: FastifySchema & Record<string, unknown> = {
  tags: ['proxy'],
  summary: "Forward a request to the integration's upstream with the tenant's credential injected",
  description:
    'Any method. The path and query after {integration} are appended to the integration baseUrl; ' +
    "the caller's credentials and hop-by-hop headers are stripped. The upstream's answer is streamed " +
    'back as it is; answers made by Keygate itself carry x-keygate-error.',
  security: [{ keygateKey: [] }, { keygateApiKey: [] }, { keygateProxyAuthorization: [] }],
  params: Type.Object({
    tenant: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }),
    integration: Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,62}$' }),
    path: Type.String({ description: 'The upstream path below baseUrl; may be empty.' }),
  }),
  response: proxyResponses(),
};

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(resolve(import.meta.dirname, '../../package.json'), 'utf8')) as {
      version?: string;
    };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Keeps only OpenAPI operations in each path item (drops QUERY, which 3.1 cannot hold). */
function pruneMethods(document: Record<string, unknown>): Record<string, unknown> {
  const paths = (document['paths'] ?? {}) as Record<string, Record<string, unknown>>;
  const allowed = new Set<string>([...OPENAPI_METHODS, 'parameters', 'summary', 'description', 'servers']);
  for (const item of Object.values(paths)) {
    for (const key of Object.keys(item)) if (!allowed.has(key)) delete item[key];
  }
  return document;
}

/**
 * Registers @fastify/swagger, which collects every route registered after it (so it must
 * come before all routes), and serves the generated document at GET /openapi.json.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Keygate',
        version: version(),
        description:
          'Vault-backed, credential-injecting reverse proxy. Generated from the route schemas; ' +
          'error codes are listed in docs/errors.md.',
      },
      tags: [
        { name: 'admin', description: 'The admin API, behind KEYGATE_ADMIN_TOKEN.' },
        { name: 'oauth', description: 'Where OAuth providers send the browser back.' },
        { name: 'proxy', description: 'Requests forwarded upstream with a Keygate key or an access token.' },
        { name: 'ops', description: 'Health, readiness, metrics and this document.' },
      ],
      components: {
        securitySchemes: {
          adminToken: { type: 'http', scheme: 'bearer', description: 'KEYGATE_ADMIN_TOKEN' },
          keygateKey: {
            type: 'http',
            scheme: 'bearer',
            description: 'A Keygate key kg_<id>.<secret>, or an access token (JWT) of callers.issuers',
          },
          keygateApiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
          keygateProxyAuthorization: { type: 'apiKey', in: 'header', name: 'proxy-authorization' },
        },
      },
    },
    transform: ({ schema, url }) => {
      if (url === PROXY_WILDCARD) return { schema: PROXY_DOC, url: '/proxy/:tenant/:integration/:path' };
      if (url.startsWith('/proxy/')) return { schema: { ...schema, hide: true }, url };
      return { schema, url };
    },
    transformObject: (documentObject) =>
      pruneMethods(
        ('openapiObject' in documentObject ? documentObject.openapiObject : {}) as Record<string, unknown>,
      ) as never,
  });
  app.get(
    '/openapi.json',
    {
      schema: {
        tags: ['ops'],
        summary: 'This OpenAPI 3.1 document, generated from the route schemas',
        response: {
          200: Type.Object({}, { additionalProperties: true, description: 'The OpenAPI document.' }),
        },
      },
    },
    () => app.swagger(),
  );
}

/** The OpenAPI path of a Fastify route URL: `:name` → `{name}`, the proxy's `*` → `{path}`. */
export function openApiPath(route: Pick<RouteOptions, 'url'>): string {
  const url = route.url === PROXY_WILDCARD ? '/proxy/:tenant/:integration/:path' : route.url;
  return url.replace(/:([A-Za-z0-9_]+)/g, '{$1}');
}
