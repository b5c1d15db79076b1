import { createHash } from 'node:crypto';
import type { CredentialRef } from '../credentials/ref.ts';

/**
 * Keygate's `requestState` for MCP 2026-07-28 (multi round-trip requests). Keygate is
 * a proxy, not the MCP server: the state marks a retried call as the answer to
 * Keygate's own InputRequiredResult, so Keygate takes it (and the matching
 * `inputResponses` entry) out before the upstream sees the call.
 *
 * The spec asks servers to bind the state to the principal, a short expiry and the
 * originating request; that is checked here. It is not MAC'd: the state grants
 * nothing (the Keygate key and its scope authorise every request, and the credential
 * is looked up afresh), so a forged one can at worst fail its own request.
 */
export const STATE_PREFIX = 'keygate.v1.';
/** The key of Keygate's entry in `inputRequests` / `inputResponses`. */
export const INPUT_KEY = 'keygate_connect';
const STATE_TTL_MS = 60 * 60 * 1000;

/** The call a requestState is bound to: its credential, its principal, its MCP method and name. */
export interface StateSubject extends CredentialRef {
  /** The Keygate key's id (the principal). */
  keyId: string;
  method: string;
  name: string | undefined;
}

interface Claims {
  k: string;
  t: string;
  i: string;
  a: string;
  r: string;
  e: number;
}

// The originating request: method and name, digested (a resource URI stays out of the state).
const requestDigest = (s: StateSubject) =>
  createHash('sha256')
    .update(`${s.method}\n${s.name ?? ''}`)
    .digest('base64url')
    .slice(0, 22);

export function makeRequestState(subject: StateSubject, now = Date.now()): string {
  const claims: Claims = {
    k: subject.keyId,
    t: subject.tenant,
    i: subject.integration,
    a: subject.account,
    r: requestDigest(subject),
    e: now + STATE_TTL_MS,
  };
  return STATE_PREFIX + Buffer.from(JSON.stringify(claims)).toString('base64url');
}

export type StateCheck = 'valid' | 'invalid' | 'foreign';

/** `foreign`: not Keygate's (the upstream's own state, passed through untouched). */
export function checkRequestState(state: unknown, subject: StateSubject, now = Date.now()): StateCheck {
  if (typeof state !== 'string' || !state.startsWith(STATE_PREFIX)) return 'foreign';
  let claims: Partial<Claims>;
  try {
    claims = JSON.parse(Buffer.from(state.slice(STATE_PREFIX.length), 'base64url').toString('utf8'));
  } catch {
    return 'invalid';
  }
  const matches =
    claims.k === subject.keyId &&
    claims.t === subject.tenant &&
    claims.i === subject.integration &&
    claims.a === subject.account &&
    claims.r === requestDigest(subject) &&
    typeof claims.e === 'number' &&
    claims.e > now;
  return matches ? 'valid' : 'invalid';
}
