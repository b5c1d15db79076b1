import { createHash } from 'node:crypto';

/**
 * The one hashing of a user into a connect link's `subject` (a link record never holds the
 * raw id, which may be an e-mail address): SHA-256 of its UTF-8 bytes, base64url. Exact: no
 * case folding, trimming or Unicode normalisation. A token's `sub`, a `keygate-user` header,
 * an application's assertion and a sign-in's `sub` all go through here (the last three
 * checked first by reauth/identity.ts's userSubject).
 */
export function subjectHash(sub: string): string {
  return createHash('sha256').update(sub, 'utf8').digest('base64url');
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
