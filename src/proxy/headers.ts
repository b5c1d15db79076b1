import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Injector } from './inject.ts';

type Headers = Record<string, string | string[] | number | undefined>;

// RFC 9110 §7.6.1 connection-specific fields, plus the legacy ones proxies still meet.
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

// Where callers put credentials (their Keygate key among them), and Keygate's own
// request headers (`keygate-account`); never forwarded.
const CALLER_CREDENTIALS = ['authorization', 'x-api-key', 'proxy-authorization', 'keygate-account'];

/** Header names the `connection` header lists: hop-by-hop too (RFC 9110 §7.6.1). */
function listedInConnection(headers: Headers): Set<string> {
  const value = headers['connection'];
  const text = Array.isArray(value) ? value.join(',') : typeof value === 'string' ? value : '';
  return new Set(
    text
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

function withoutHopByHop(headers: Headers, alsoDrop: (name: string) => boolean): Headers {
  const listed = listedInConnection(headers);
  const out: Headers = {};
  for (const [name, value] of Object.entries(headers)) {
    const lower = name.toLowerCase();
    if (value === undefined || HOP_BY_HOP.has(lower) || listed.has(lower) || alsoDrop(lower)) continue;
    out[lower] = value;
  }
  return out;
}

export interface UpstreamHeaderPlan {
  injector: Injector;
  /** The integration's fixed headers, lower-cased. */
  fixed: Readonly<Record<string, string>>;
}

/** Lower-cases the fixed headers once; they are sent on every request of the integration. */
export function planHeaders(
  injector: Injector,
  fixed: Readonly<Record<string, string>> = {},
): UpstreamHeaderPlan {
  return {
    injector,
    fixed: Object.fromEntries(Object.entries(fixed).map(([k, v]) => [k.toLowerCase(), v])),
  };
}

/**
 * The upstream request's headers: the caller's, without hop-by-hop fields, without
 * any credential the caller sent, plus the fixed headers and the injected one.
 * Synchronous: the credential was fetched before the upstream request is built.
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders | Headers,
  plan: UpstreamHeaderPlan,
  token: string,
  bodyLength: number | undefined,
): Headers {
  const injected = plan.injector.header;
  const out = withoutHopByHop(
    incoming as Headers,
    (name) => CALLER_CREDENTIALS.includes(name) || name === injected || name === 'expect',
  );
  Object.assign(out, plan.fixed);
  if (bodyLength !== undefined) out['content-length'] = String(bodyLength);
  if (injected !== undefined) out[injected] = plan.injector.value(token);
  return out;
}

/**
 * The upstream response's headers as the caller gets them: no hop-by-hop fields,
 * and nothing that could pass for a Keygate error (`x-keygate-*` is Keygate's alone).
 */
export function callerResponseHeaders(headers: Headers | OutgoingHttpHeaders): Headers {
  return withoutHopByHop(headers as Headers, (name) => name.startsWith('x-keygate-'));
}
