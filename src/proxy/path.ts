import { NAME_PATTERN } from '../config/schema.ts';
import { KeygateError } from '../errors.ts';

/** The parts of a raw `/proxy/{tenant}/{integration}{rest}?{query}` request target, still encoded. */
export interface ProxyTarget {
  tenant: string;
  integration: string;
  /** Everything after the integration, starting with `/` or empty; never decoded. */
  rest: string;
  /** The raw query string without `?`; empty when there is none. */
  query: string;
}

const NAME = new RegExp(NAME_PATTERN);

/** Whether the tenant and integration are names at all (else `invalid_name`). */
export function namesValid(target: ProxyTarget): boolean {
  return NAME.test(target.tenant) && NAME.test(target.integration);
}

const PROXY_URL = /^\/proxy\/([^/?]*)\/([^/?]*)([^?]*)(?:\?(.*))?$/s;

/** Splits the raw request target; undefined when it is not a proxy URL at all. */
export function splitProxyUrl(rawUrl: string): ProxyTarget | undefined {
  const match = PROXY_URL.exec(rawUrl);
  if (!match) return undefined;
  return { tenant: match[1] ?? '', integration: match[2] ?? '', rest: match[3] ?? '', query: match[4] ?? '' };
}

// Printable ASCII except the backslash and '#'; '%' only as a well-formed escape.
const ALLOWED_RAW = /^[\x21-\x22\x24-\x5b\x5d-\x7e]*$/;
const BAD_ESCAPE = /%(?![0-9A-Fa-f]{2})/;
const ENCODED_SEPARATOR = /%(2f|5c)/i;
const DOT_SEGMENT = /^\.\.?(;.*)?$/;
const CONTROL = /[\x00-\x1f\x7f\\]/; // eslint-disable-line no-control-regex
const MAX_DECODE_ROUNDS = 4;

function invalid(why: string): KeygateError {
  return new KeygateError('invalid_path', { message: `The path is refused: ${why}.` });
}

// Decodes until stable so double encodings (%252e%252e) are judged by what they become.
function decodeFully(segment: string): string {
  let current = segment;
  for (let round = 0; round < MAX_DECODE_ROUNDS; round += 1) {
    let next: string;
    try {
      next = decodeURIComponent(current);
    } catch {
      throw invalid('malformed percent-encoding');
    }
    if (next === current) return current;
    if (ENCODED_SEPARATOR.test(next) || next.includes('/')) throw invalid('encoded slash or backslash');
    current = next;
  }
  throw invalid('too many layers of percent-encoding');
}

/**
 * The upstream path for `rest` under `basePath`: always the base path plus the
 * caller's path, sent as the caller encoded it. Anything an upstream or a URL parser
 * could read as leaving the base path (dot segments in any encoding, encoded
 * separators, backslashes, `//`, control characters) is refused, not repaired.
 */
export function upstreamPath(basePath: string, rest: string): string {
  const base = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
  if (rest === '') return base === '' ? '/' : base;
  if (!rest.startsWith('/')) throw invalid('it must start with /');
  if (!ALLOWED_RAW.test(rest)) throw invalid('backslash, fragment, space or control character');
  if (BAD_ESCAPE.test(rest)) throw invalid('malformed percent-encoding');
  if (ENCODED_SEPARATOR.test(rest)) throw invalid('encoded slash or backslash');
  const segments = rest.slice(1).split('/');
  segments.forEach((segment, index) => {
    const last = index === segments.length - 1;
    if (segment === '' && !last) throw invalid('empty segment (//)');
    const decoded = decodeFully(segment);
    if (DOT_SEGMENT.test(decoded)) throw invalid('dot segment');
    if (CONTROL.test(decoded)) throw invalid('control character or backslash');
  });
  return `${base}${rest}`;
}

/** Belt and braces: the URL a parser makes of origin + path keeps the origin and the base path. */
export function assertWithinBase(origin: string, basePath: string, path: string): void {
  const url = new URL(`${origin}${path}`);
  const base = basePath.endsWith('/') ? basePath.slice(0, -1) : basePath;
  const inside = url.pathname === (base || '/') || url.pathname.startsWith(`${base}/`);
  if (url.origin !== origin || !inside) throw invalid('it resolves outside the base URL');
}

/**
 * The raw query with every parameter named `name` removed, so a caller cannot
 * supply (or duplicate) the parameter Keygate injects.
 */
export function withoutQueryParam(query: string, name: string): string {
  if (query === '') return '';
  return query
    .split('&')
    .filter((pair) => {
      const key = pair.split('=', 1)[0] ?? '';
      let decoded: string;
      try {
        decoded = decodeURIComponent(key.replace(/\+/g, ' '));
      } catch {
        return false; // an undecodable key might be the injected one; drop it
      }
      return decoded !== name;
    })
    .join('&');
}

const MAX_CHECKED = 1024;

/**
 * upstreamPath + assertWithinBase for one integration, remembered: the checks are
 * pure, and an API's callers send the same few paths again and again. Only accepted
 * paths are kept, at most MAX_CHECKED (the memo starts over when full).
 */
export function checkedPathFor(origin: string, basePath: string): (rest: string) => string {
  const accepted = new Map<string, string>();
  return (rest) => {
    const known = accepted.get(rest);
    if (known !== undefined) return known;
    const path = upstreamPath(basePath, rest);
    assertWithinBase(origin, basePath, path);
    if (accepted.size >= MAX_CHECKED) accepted.clear();
    accepted.set(rest, path);
    return path;
  };
}
