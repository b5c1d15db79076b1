import type { IncomingHttpHeaders } from 'node:http';
import type { ResolvedBudget } from '../config/budgets.ts';
import { BUCKET, WINDOW, type Observation, type Observations } from './observations.ts';
import { readIetf } from './parse-ietf.ts';
import {
  EPOCH_SECONDS_FLOOR,
  goDuration,
  leadingInteger,
  one,
  quantity,
  retryAfter,
  retryAfterMs,
  rfc3339,
  sane,
} from './values.ts';

/**
 * Reads what an answer says about the credential's rate limit. Most answers carry none of
 * these headers, so `has` first looks up the few names a family cannot do without,
 * reading no clock and allocating nothing; only when it says yes does `read` fill `into`
 * (cleared first).
 */
export interface HeaderParser {
  has(status: number, headers: IncomingHttpHeaders): boolean;
  read(status: number, headers: IncomingHttpHeaders, into: Observations, now: number): void;
}

// OpenAI (and OpenAI-compatible APIs such as Groq): x-ratelimit-{limit,remaining,reset}-{requests,tokens}.
const OPENAI = ['requests', 'tokens'].map((name) => ({
  name,
  limit: `x-ratelimit-limit-${name}`,
  remaining: `x-ratelimit-remaining-${name}`,
  reset: `x-ratelimit-reset-${name}`,
}));

// Anthropic: anthropic-ratelimit-{requests,tokens,input-tokens,output-tokens}-{limit,remaining,reset}.
const ANTHROPIC = ['requests', 'tokens', 'input-tokens', 'output-tokens'].map((name) => ({
  name,
  limit: `anthropic-ratelimit-${name}-limit`,
  remaining: `anthropic-ratelimit-${name}-remaining`,
  reset: `anthropic-ratelimit-${name}-reset`,
}));

/** OpenAI's reset: a Go duration (`6m0s`, `20ms`), to the millisecond. */
function openAiReset(o: Observation, text: string | undefined): void {
  o.resetMs = goDuration(text);
  o.resetSlackMs = 1;
}

/** Anthropic's reset: an RFC 3339 time, left as it was (NaN) when it is not one. */
function anthropicReset(o: Observation, text: string | undefined, now: number): void {
  const reset = rfc3339(text, now);
  if (reset) {
    o.resetMs = reset.ms;
    o.resetSlackMs = reset.slackMs;
  }
}

/** A token-bucket family (OpenAI, Anthropic): one quota per name whose remaining count is there. */
function readBuckets(
  families: typeof OPENAI,
  readReset: (o: Observation, text: string | undefined, now: number) => void,
  headers: IncomingHttpHeaders,
  into: Observations,
  now: number,
): void {
  for (const names of families) {
    const remaining = headers[names.remaining];
    if (remaining === undefined) continue;
    const o = into.add(names.name, names.name, BUCKET);
    if (!o) return;
    o.remaining = quantity(one(remaining));
    o.limit = quantity(one(headers[names.limit]));
    readReset(o, one(headers[names.reset]), now);
    if (!usable(o.remaining, o.limit)) into.drop();
  }
}

const readOpenAi = (headers: IncomingHttpHeaders, into: Observations, now: number): void =>
  readBuckets(OPENAI, openAiReset, headers, into, now);
const readAnthropic = (headers: IncomingHttpHeaders, into: Observations, now: number): void =>
  readBuckets(ANTHROPIC, anthropicReset, headers, into, now);

/** The fields of drafts before -07: RateLimit-Limit, -Remaining, -Reset (delta seconds). */
function readLegacy(headers: IncomingHttpHeaders, into: Observations, now: number): void {
  const remaining = headers['ratelimit-remaining'];
  if (remaining === undefined) return;
  const o = into.add('ratelimit', 'requests', WINDOW);
  if (!o) return;
  o.remaining = quantity(one(remaining));
  o.limit = leadingInteger(one(headers['ratelimit-limit']));
  const reset = quantity(one(headers['ratelimit-reset']));
  // Some servers send a Unix time where the drafts say seconds from now.
  o.resetMs = sane(reset >= EPOCH_SECONDS_FLOOR ? Math.max(0, reset * 1000 - now) : reset * 1000);
  if (!usable(o.remaining, o.limit)) into.drop();
}

function readRetryAfter(status: number, headers: IncomingHttpHeaders, into: Observations, now: number): void {
  if (status !== 429 && status !== 503) return;
  const ms = retryAfterMs(one(headers['retry-after-ms']));
  into.retryAfterMs = Number.isNaN(ms) ? retryAfter(one(headers['retry-after']), now) : ms;
}

/** Remaining must be a count; a limit, when given, at least as large. */
function usable(remaining: number, limit: number): boolean {
  return !Number.isNaN(remaining) && !(limit < remaining);
}

const hasOpenAi = (h: IncomingHttpHeaders) =>
  h['x-ratelimit-remaining-requests'] !== undefined || h['x-ratelimit-remaining-tokens'] !== undefined;
const hasAnthropic = (h: IncomingHttpHeaders) =>
  h['anthropic-ratelimit-requests-remaining'] !== undefined ||
  h['anthropic-ratelimit-tokens-remaining'] !== undefined ||
  h['anthropic-ratelimit-input-tokens-remaining'] !== undefined ||
  h['anthropic-ratelimit-output-tokens-remaining'] !== undefined;
const hasIetf = (h: IncomingHttpHeaders) =>
  h['ratelimit'] !== undefined || h['ratelimit-remaining'] !== undefined;
const hasRetryAfter = (status: number, h: IncomingHttpHeaders) =>
  (status === 429 || status === 503) && (h['retry-after'] !== undefined || h['retry-after-ms'] !== undefined);

/** The structured fields (draft -07 on), else the older separate ones. */
function readIetfOrLegacy(headers: IncomingHttpHeaders, into: Observations, now: number): void {
  if (headers['ratelimit'] !== undefined) readIetf(headers, into);
  else if (headers['ratelimit-remaining'] !== undefined) readLegacy(headers, into, now);
}

/** One answer's family in `auto`: the first whose names are there. */
function readFirstFamily(headers: IncomingHttpHeaders, into: Observations, now: number): void {
  if (hasOpenAi(headers)) readOpenAi(headers, into, now);
  else if (hasAnthropic(headers)) readAnthropic(headers, into, now);
  else readIetfOrLegacy(headers, into, now);
}

/** A family's parser: its own fields, and Retry-After on a 429 or 503 as every family has it. */
function parser(
  has: (headers: IncomingHttpHeaders) => boolean,
  readFamily: (headers: IncomingHttpHeaders, into: Observations, now: number) => void,
): HeaderParser {
  return {
    has: (status, h) => has(h) || hasRetryAfter(status, h),
    read(status, headers, into, now) {
      into.clear();
      if (has(headers)) readFamily(headers, into, now);
      readRetryAfter(status, headers, into, now);
    },
  };
}

const PARSERS: Readonly<Record<ResolvedBudget['headers'], HeaderParser>> = {
  openai: parser(hasOpenAi, readOpenAi),
  anthropic: parser(hasAnthropic, readAnthropic),
  ietf: parser(hasIetf, readIetfOrLegacy),
  auto: parser((h) => hasOpenAi(h) || hasAnthropic(h) || hasIetf(h), readFirstFamily),
};

export function parserFor(headers: ResolvedBudget['headers']): HeaderParser {
  return PARSERS[headers];
}
