import type { IncomingHttpHeaders } from 'node:http';
import {
  parseDictionary,
  parseList,
  Token,
  type BareItem,
  type List,
  type Parameters,
} from 'structured-headers';
import { WINDOW, type Observations } from './observations.ts';
import { joined, MAX_QUANTITY, sane } from './values.ts';

// draft-ietf-httpapi-ratelimit-headers (-08 onwards, -11 the latest): two Structured
// Fields (RFC 9651), parsed by the `structured-headers` package rather than by hand:
//   RateLimit-Policy: "permin";q=50;w=60,"perhr";q=1000;w=3600
//   RateLimit: "permin";r=12;t=30
// `r` is what is left, `t` the seconds until more is made available (read as an upper
// bound: Keygate rolls the window over at the answer's time + t), `q` the quota, `w` the
// window, `qu` the unit (`requests` by default). Draft -07 had one Dictionary instead,
// `RateLimit: limit=100, remaining=50, reset=5`; it is read too.

const MAX_NAME = 64;
const PRINTABLE = /^[\x20-\x7e]+$/;

function nameOf(value: BareItem): string | undefined {
  const name = typeof value === 'string' ? value : value instanceof Token ? value.toString() : undefined;
  return name !== undefined && name.length <= MAX_NAME && PRINTABLE.test(name) ? name : undefined;
}

const count = (value: BareItem | undefined): number =>
  typeof value === 'number' && Number.isInteger(value) && value >= 0 && value <= MAX_QUANTITY ? value : NaN;

function parsed<T>(parse: (text: string) => T, text: string | undefined): T | undefined {
  if (text === undefined || text.length > 4096) return undefined;
  try {
    return parse(text);
  } catch {
    return undefined; // malformed fields MUST be ignored (the draft, §5)
  }
}

// RateLimit-Policy "SHOULD remain consistent over a sequence of HTTP responses": the last
// one parsed is kept, so a provider sending the same policy on every answer is parsed once.
let lastPolicyText: string | undefined;
let lastPolicy: List | undefined;

function policies(text: string | undefined): List | undefined {
  if (text !== lastPolicyText) {
    lastPolicy = parsed(parseList, text);
    lastPolicyText = text;
  }
  return lastPolicy;
}

function policyParams(policies: List | undefined, name: string): Parameters | undefined {
  if (!policies) return undefined;
  for (const member of policies) {
    const [value, params] = member;
    if (!Array.isArray(value) && nameOf(value) === name) return params;
  }
  return undefined;
}

export function readIetf(headers: IncomingHttpHeaders, into: Observations): void {
  const field = joined(headers['ratelimit']);
  const limits = parsed(parseList, field);
  if (!limits) {
    readDraft07(field, into);
    return;
  }
  const known = policies(joined(headers['ratelimit-policy']));
  for (const member of limits) {
    const [value, params] = member;
    if (Array.isArray(value)) continue; // an inner list is no service limit
    const name = nameOf(value);
    const remaining = count(params.get('r'));
    if (name === undefined || Number.isNaN(remaining)) continue;
    const policy = policyParams(known, name);
    const unit = policy?.get('qu');
    // A concurrency quota is not a rate: nothing to learn about a window from it.
    if (unit === 'concurrent-requests') continue;
    const o = into.add(name, typeof unit === 'string' ? unit : 'requests', WINDOW);
    if (!o) return;
    o.remaining = remaining;
    o.limit = count(policy?.get('q'));
    const t = count(params.get('t'));
    o.resetMs = sane(t * 1000);
    const w = count(policy?.get('w'));
    o.periodMs = w > 0 ? w * 1000 : NaN;
    if (o.limit < o.remaining) into.drop();
  }
}

function readDraft07(field: string | undefined, into: Observations): void {
  const dictionary = parsed(parseDictionary, field);
  const item = (key: string) => {
    const member = dictionary?.get(key);
    return member === undefined || Array.isArray(member[0]) ? undefined : (member[0] as BareItem);
  };
  const remaining = count(item('remaining'));
  if (Number.isNaN(remaining)) return;
  const o = into.add('ratelimit', 'requests', WINDOW);
  if (!o) return;
  o.remaining = remaining;
  o.limit = count(item('limit'));
  o.resetMs = sane(count(item('reset')) * 1000);
  if (o.limit < o.remaining) into.drop();
}
