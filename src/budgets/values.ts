// Readers for the values rate-limit headers carry. Each returns NaN for anything it does
// not recognise, or that is negative or absurd: a provider's garbage is never a reason to
// refuse a request or to throw.

/** Quotas beyond this are garbage (no provider counts a trillion requests or tokens per window). */
export const MAX_QUANTITY = 1e12;
/** Resets further than this are garbage; long but sane ones are still capped (LEARNED_REFUSAL_CAP_MS). */
export const MAX_RESET_MS = 24 * 60 * 60 * 1000;
/** Longer header values are not read at all. */
const MAX_VALUE_LENGTH = 256;

type HeaderValue = string | string[] | undefined;

/** The first value of a header that may have been sent more than once. */
export function one(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** Every value of a header, joined as an HTTP list (how Structured Fields read a split list). */
export function joined(value: HeaderValue): string | undefined {
  return Array.isArray(value) ? value.join(', ') : value;
}

const QUANTITY = /^\s*(\d{1,13}(?:\.\d{1,6})?)\s*$/;

/** A non-negative decimal count (`59`, `149984`, `2.5`), at most MAX_QUANTITY. */
export function quantity(text: string | undefined): number {
  return capturedNumber(QUANTITY, text);
}

/** The number `pattern` captures first in `text`, at most MAX_QUANTITY; else NaN. */
function capturedNumber(pattern: RegExp, text: string | undefined): number {
  if (text === undefined) return NaN;
  const match = pattern.exec(text);
  if (!match) return NaN;
  const n = Number(match[1]);
  return n <= MAX_QUANTITY ? n : NaN;
}

/** Milliseconds, or NaN when negative or beyond MAX_RESET_MS. */
export const sane = (ms: number): number => (ms >= 0 && ms <= MAX_RESET_MS ? ms : NaN);

const UNIT_MS: Readonly<Record<string, number>> = {
  h: 3_600_000,
  m: 60_000,
  s: 1000,
  ms: 1,
  us: 0.001,
  µs: 0.001, // U+00B5 MICRO SIGN, as Go writes it
  μs: 0.001, // U+03BC GREEK SMALL LETTER MU
  ns: 0.000001,
};
// `ms` before `m`: alternatives are tried in order.
const DURATION_PART = /(\d{1,12}(?:\.\d{0,9})?|\.\d{1,9})(ms|us|µs|μs|ns|h|m|s)/y;
const SECONDS = /^\d{1,12}(?:\.\d{1,9})?$/;

/**
 * A duration as OpenAI and Go's `time.Duration.String` write it (`6m0s`, `1.5s`, `120ms`,
 * `1h2m3.5s`, `0s`), or a bare number of seconds, in ms. No sign: a negative duration is
 * garbage.
 */
export function goDuration(text: string | undefined): number {
  if (text === undefined) return NaN;
  const value = text.trim();
  if (value === '' || value.length > 64) return NaN;
  if (SECONDS.test(value)) return sane(Number(value) * 1000);
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < value.length) {
    const at = DURATION_PART.lastIndex;
    const match = DURATION_PART.exec(value);
    if (!match || match.index !== at) return NaN;
    total += Number(match[1]) * (UNIT_MS[match[2] as string] as number);
  }
  return sane(total);
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * An RFC 3339 timestamp (Anthropic's resets) as ms from `now` (0 when past), with how
 * coarse it is: whole seconds are 1000 ms coarse.
 */
export function rfc3339(text: string | undefined, now: number): { ms: number; slackMs: number } | undefined {
  if (text === undefined) return undefined;
  const value = text.trim();
  const match = RFC3339.exec(value);
  if (!match) return undefined;
  const at = Date.parse(value);
  if (!Number.isFinite(at)) return undefined;
  const ms = sane(Math.max(0, at - now));
  if (Number.isNaN(ms)) return undefined;
  const fraction = match[1];
  return { ms, slackMs: fraction === undefined ? 1000 : 10 ** (4 - Math.min(fraction.length, 4)) };
}

const HTTP_DATE = /^[A-Za-z]{3},? /;

/** Retry-After (RFC 9110 §10.2.3): delay-seconds or an HTTP-date, as ms from `now`. */
export function retryAfter(text: string | undefined, now: number): number {
  if (text === undefined) return NaN;
  const value = text.trim();
  if (value.length > MAX_VALUE_LENGTH) return NaN;
  if (SECONDS.test(value)) return sane(Number(value) * 1000);
  if (!HTTP_DATE.test(value)) return NaN;
  const at = Date.parse(value);
  return Number.isFinite(at) ? sane(Math.max(0, at - now)) : NaN;
}

/** `retry-after-ms` (OpenAI, Anthropic): milliseconds. */
export function retryAfterMs(text: string | undefined): number {
  if (text === undefined) return NaN;
  const value = text.trim();
  return SECONDS.test(value) ? sane(Number(value)) : NaN;
}

const LEADING_INTEGER = /^\s*(\d{1,13})\s*(?:[,;]|$)/;

/** The first integer of a field that may go on with a list (`100`, `100, 100;w=60`: older drafts). */
export function leadingInteger(text: string | undefined): number {
  return capturedNumber(LEADING_INTEGER, text);
}

/** Values Date.now() can take (2001-09-09 onwards) — a `reset` this large is a Unix time, not a delay. */
export const EPOCH_SECONDS_FLOOR = 1_000_000_000;
