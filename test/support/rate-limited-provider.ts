import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import { startUpstream, type FakeUpstream } from './upstream.ts';

/**
 * How the provider tells its rate limit:
 * - `openai`: x-ratelimit-{limit,remaining,reset}-{requests,tokens}, resets as Go durations;
 * - `anthropic`: anthropic-ratelimit-{requests,tokens}-{limit,remaining,reset}, resets as
 *   RFC 3339 timestamps in whole seconds (cut, as a formatter does: up to 1 s early);
 * - `ietf`: RateLimit-Policy and RateLimit (draft-ietf-httpapi-ratelimit-headers);
 * - `legacy`: RateLimit-Limit, -Remaining, -Reset (the drafts before -07);
 * - `garbage`: headers of every family, all unreadable; nothing enforced.
 * The first two enforce a token bucket (as OpenAI and Anthropic do), the IETF ones a
 * fixed window. Every 429 carries Retry-After.
 */
export type RateLimitStyle = 'openai' | 'anthropic' | 'ietf' | 'legacy' | 'garbage';

export interface RateLimitedProviderOptions {
  style: RateLimitStyle;
  /** Requests per window (bucket: its size, refilled over one window) per API key. */
  limit: number;
  windowMs: number;
  /** How long an answer takes. */
  latencyMs?: number;
}

/** One answer the provider gave. */
export interface ProviderAnswer {
  key: string;
  at: number;
  status: number;
}

export interface RateLimitedProvider {
  origin: string;
  answers: ProviderAnswer[];
  /** Answers to one API key, by status. */
  count(key: string, status: number, since?: number): number;
  stop(): Promise<void>;
}

interface Quota {
  level: number;
  at: number;
  windowStart: number;
  used: number;
}

const BEARER = /^Bearer\s+(\S+)$/i;

function apiKeyOf(headers: IncomingHttpHeaders): string {
  const bearer = BEARER.exec(headers.authorization ?? '')?.[1];
  const header = headers['x-api-key'];
  return bearer ?? (typeof header === 'string' ? header : '');
}

/** Milliseconds the way Go's time.Duration.String writes them (`1.25s`, `120ms`, `1m30s`). */
function goDuration(ms: number): string {
  if (ms < 1000) return `${Math.ceil(ms)}ms`;
  const minutes = Math.floor(ms / 60_000);
  const seconds = Math.ceil((ms % 60_000) / 10) / 100;
  return minutes > 0 ? `${minutes}m${seconds}s` : `${seconds}s`;
}

/** An RFC 3339 timestamp in whole seconds, cut (not rounded up). */
const wholeSeconds = (at: number) =>
  new Date(Math.floor(at / 1000) * 1000).toISOString().replace('.000Z', 'Z');

/**
 * An AI provider stand-in that enforces a real rate limit per API key and says so in
 * one family of headers; a request over the limit gets 429. Keygate's tests read its
 * `answers` to count what each caller got and whether Keygate let any request reach it
 * that it had to refuse.
 */
export async function startRateLimitedProvider(
  options: RateLimitedProviderOptions,
): Promise<RateLimitedProvider> {
  const { style, limit, windowMs, latencyMs = 5 } = options;
  const rate = limit / windowMs; // bucket refill per ms
  const quotas = new Map<string, Quota>();
  const answers: ProviderAnswer[] = [];

  const decide = (key: string, now: number): { ok: boolean; headers: OutgoingHttpHeaders } => {
    let q = quotas.get(key);
    if (!q) {
      // A key's windows start with its first request.
      q = { level: limit, at: now, windowStart: now, used: 0 };
      quotas.set(key, q);
    }
    if (style === 'openai' || style === 'anthropic') {
      q.level = Math.min(limit, q.level + rate * (now - q.at));
      q.at = now;
      const ok = q.level >= 1;
      if (ok) q.level -= 1;
      const toFull = (limit - q.level) / rate;
      const retryMs = ok ? 0 : (1 - q.level) / rate;
      return { ok, headers: bucketHeaders(style, q.level, toFull, retryMs, now) };
    }
    const windowStart = q.windowStart + Math.floor((now - q.windowStart) / windowMs) * windowMs;
    if (windowStart !== q.windowStart) {
      q.windowStart = windowStart;
      q.used = 0;
    }
    const ok = style === 'garbage' || q.used < limit;
    if (ok) q.used += 1;
    const t = Math.ceil((windowStart + windowMs - now) / 1000);
    return { ok, headers: windowHeaders(style, limit - q.used, t, ok) };
  };

  const bucketHeaders = (
    kind: 'openai' | 'anthropic',
    level: number,
    toFullMs: number,
    retryMs: number,
    now: number,
  ): OutgoingHttpHeaders => {
    const remaining = Math.max(0, Math.floor(level));
    const retry = retryMs > 0 ? { 'retry-after': String(Math.ceil(retryMs / 1000)) } : {};
    if (kind === 'openai') {
      return {
        'x-ratelimit-limit-requests': String(limit),
        'x-ratelimit-remaining-requests': String(remaining),
        'x-ratelimit-reset-requests': goDuration(toFullMs),
        'x-ratelimit-limit-tokens': '1000000',
        'x-ratelimit-remaining-tokens': String(1_000_000 - 100 * (limit - remaining)),
        'x-ratelimit-reset-tokens': goDuration(toFullMs),
        ...retry,
      };
    }
    return {
      'anthropic-ratelimit-requests-limit': String(limit),
      'anthropic-ratelimit-requests-remaining': String(remaining),
      'anthropic-ratelimit-requests-reset': wholeSeconds(now + toFullMs),
      'anthropic-ratelimit-tokens-limit': '1000000',
      'anthropic-ratelimit-tokens-remaining': String(1_000_000 - 100 * (limit - remaining)),
      'anthropic-ratelimit-tokens-reset': wholeSeconds(now + toFullMs),
      ...retry,
    };
  };

  const windowHeaders = (
    kind: RateLimitStyle,
    remaining: number,
    t: number,
    ok: boolean,
  ): OutgoingHttpHeaders => {
    const left = Math.max(0, remaining);
    const retry = ok ? {} : { 'retry-after': String(t) };
    if (kind === 'ietf') {
      return {
        'ratelimit-policy': `"default";q=${limit};w=${Math.ceil(windowMs / 1000)}`,
        ratelimit: `"default";r=${left};t=${t}`,
        ...retry,
      };
    }
    if (kind === 'legacy') {
      return {
        'ratelimit-limit': String(limit),
        'ratelimit-remaining': String(left),
        'ratelimit-reset': String(t),
        ...retry,
      };
    }
    return {
      'x-ratelimit-limit-requests': 'many',
      'x-ratelimit-remaining-requests': 'lots',
      'x-ratelimit-reset-requests': 'eventually',
      'anthropic-ratelimit-requests-remaining': '-5',
      'anthropic-ratelimit-requests-reset': 'yesterday',
      'ratelimit-policy': '"p";q=-1;w=0',
      ratelimit: '"p";r=(((;t=-2',
      'ratelimit-remaining': '1e999',
      'ratelimit-reset': 'NaN',
      'retry-after': 'whenever',
    };
  };

  const upstream: FakeUpstream = await startUpstream(async (req, res) => {
    const key = apiKeyOf(req.headers);
    const now = Date.now();
    const { ok, headers } = decide(key, now);
    answers.push({ key, at: now, status: ok ? 200 : 429 });
    await new Promise((r) => setTimeout(r, latencyMs));
    res.writeHead(ok ? 200 : 429, { 'content-type': 'application/json', ...headers });
    res.end(JSON.stringify(ok ? { ok: true, path: req.url } : { error: { type: 'rate_limit_error' } }));
  });

  return {
    origin: upstream.origin,
    answers,
    count: (key, status, since = 0) =>
      answers.filter((a) => a.key === key && a.status === status && a.at >= since).length,
    stop: () => upstream.stop(),
  };
}
