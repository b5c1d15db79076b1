import { createHash } from 'node:crypto';

/**
 * The user a token speaks for, as Keygate keeps it: the SHA-256 of the token's `sub`,
 * base64url. What a connect link made for a token-identified caller is bound to, so a
 * link record never holds the raw claim (which may be an e-mail address).
 */
export function subjectOf(sub: string): string {
  return createHash('sha256').update(sub).digest('base64url');
}

/**
 * A token caller's stable, non-secret id: `t_` and the first 22 characters (132 bits) of
 * the base64url SHA-256 of `iss`, a NUL and `sub`. The same user of the same issuer has
 * the same id on every replica and after restarts; one of another issuer never does.
 * What the audit line shows as `caller`.
 */
export function tokenCallerId(iss: string, sub: string): string {
  return `t_${createHash('sha256').update(iss).update('\0').update(sub).digest('base64url').slice(0, 22)}`;
}
