import type { IncomingHttpHeaders } from 'node:http';
import { looksLikeKey } from '../keys/key-format.ts';

/** What a caller presented: a Keygate key, an access token (a JWT), a bearer that is neither, or nothing. */
export type Presented =
  | { kind: 'key'; value: string }
  | { kind: 'token'; value: string }
  | { kind: 'unrecognised' }
  | { kind: 'none' };

const BEARER = /^Bearer\s+(\S+)\s*$/i;
const NONE: Presented = { kind: 'none' };
const UNRECOGNISED: Presented = { kind: 'unrecognised' };

/** A compact JWS starts with the base64url of `{"`: told apart from `kg_` keys by shape alone. */
export const looksLikeJwt = (value: string): boolean => value.startsWith('eyJ') && value.includes('.');

function classify(value: string | undefined): Presented | undefined {
  if (value === undefined) return undefined;
  if (looksLikeKey(value)) return { kind: 'key', value };
  if (looksLikeJwt(value)) return { kind: 'token', value };
  return undefined;
}

/**
 * The first Keygate key or access token among `Authorization: Bearer`, `x-api-key` and
 * `Proxy-Authorization: Bearer`, the places SDKs put an API key (so an SDK pointed at
 * Keygate works with either). An `Authorization: Bearer` holding neither (an opaque
 * token) is `unrecognised`; an `x-api-key` holding neither is the caller's business.
 */
export function presentedCredential(headers: IncomingHttpHeaders): Presented {
  const bearer = BEARER.exec(headers.authorization ?? '')?.[1];
  const apiKey = headers['x-api-key'];
  return (
    classify(bearer) ??
    classify(typeof apiKey === 'string' ? apiKey.trim() : undefined) ??
    classify(BEARER.exec(headers['proxy-authorization'] ?? '')?.[1]) ??
    (bearer === undefined ? NONE : UNRECOGNISED)
  );
}
