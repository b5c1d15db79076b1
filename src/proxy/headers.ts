import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { FORWARDING } from './forwarded.ts';
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
// request headers (`keygate-account`; `keygate-user`, the application's user for
// binding connect links, see src/reauth); never forwarded.
const CALLER_CREDENTIALS = new Set([
  'authorization',
  'x-api-key',
  'proxy-authorization',
  'keygate-account',
  'keygate-user',
]);

const NONE: ReadonlySet<string> = new Set();
// `Connection` values seen, parsed: a peer sends the same one (`keep-alive`) on every message.
const LISTED = new Map<string, ReadonlySet<string>>();
const MAX_LISTED = 64;

function parseConnection(text: string): ReadonlySet<string> {
  return new Set(
    text
      .split(',')
      .map((t) => t.trim().toLowerCase())
      .filter(Boolean),
  );
}

/** Header names the `connection` header lists: hop-by-hop too (RFC 9110 §7.6.1). */
function listedInConnection(headers: Headers): ReadonlySet<string> {
  const value = headers['connection'];
  if (value === undefined) return NONE; // no allocation
  if (typeof value !== 'string') return parseConnection(Array.isArray(value) ? value.join(',') : '');
  let listed = LISTED.get(value);
  if (listed === undefined) {
    listed = parseConnection(value);
    if (LISTED.size >= MAX_LISTED) LISTED.clear();
    LISTED.set(value, listed);
  }
  return listed;
}

// Node's parser already lower-cases request and undici's response header names, so
// `name` is only lower-cased again when it is not.
const lower = (name: string) => (/[A-Z]/.test(name) ? name.toLowerCase() : name);

function withoutHopByHop(headers: Headers, alsoDrop: (name: string) => boolean): Headers {
  const listed = listedInConnection(headers);
  const out: Headers = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined) continue;
    const key = lower(name);
    if (HOP_BY_HOP.has(key) || listed.has(key) || alsoDrop(key)) continue;
    out[key] = value;
  }
  return out;
}

export interface UpstreamHeaderPlan {
  injector: Injector;
  /** The integration's `headers`, lower-cased: sent when the caller sent no header of that name. */
  defaults: Readonly<Record<string, string>>;
  /** The integration's `forceHeaders`, lower-cased: replace the caller's. */
  forced: Readonly<Record<string, string>>;
  /** Caller headers never forwarded besides hop-by-hop ones: credentials, the injected header, `expect`. */
  dropped: (name: string) => boolean;
}

const lowerCased = (headers: Readonly<Record<string, string>> = {}) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]));

/** Lower-cases the integration's headers once; they are applied on every request of the integration. */
export function planHeaders(
  injector: Injector,
  defaults: Readonly<Record<string, string>> = {},
  forced: Readonly<Record<string, string>> = {},
): UpstreamHeaderPlan {
  const force = lowerCased(forced);
  const fallback = lowerCased(defaults);
  for (const name of Object.keys(force)) delete fallback[name];
  const injected = injector.header;
  // FORWARDING: callers' Forwarded/X-Forwarded-* never reach the upstream (forwarded.ts).
  const dropped = (name: string) =>
    CALLER_CREDENTIALS.has(name) || name === injected || name === 'expect' || FORWARDING.has(name);
  return { injector, defaults: fallback, forced: force, dropped };
}

/**
 * The upstream request's headers: the caller's, without hop-by-hop fields and without
 * any credential the caller sent; then the integration's default headers where the
 * caller sent none of that name (a newer `anthropic-version` from an SDK is kept), its
 * forced headers over the caller's, and last the injected credential, which always wins.
 * Synchronous: the credential was fetched before the upstream request is built.
 */
export function upstreamRequestHeaders(
  incoming: IncomingHttpHeaders | Headers,
  plan: UpstreamHeaderPlan,
  token: string,
  bodyLength: number | undefined,
): Headers {
  const out = withoutHopByHop(incoming as Headers, plan.dropped);
  for (const name in plan.defaults) {
    if (out[name] === undefined) out[name] = plan.defaults[name];
  }
  Object.assign(out, plan.forced);
  if (bodyLength !== undefined) out['content-length'] = String(bodyLength);
  const injected = plan.injector.header;
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
