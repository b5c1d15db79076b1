import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { KeygateError } from '../errors.ts';

/**
 * The binding of a connect link to the tenant's user, when `reauth.identity` is set: the
 * embedding application (where the user is signed in) vouches for who opened the link
 * with a short-lived assertion it signs with the shared secret:
 *
 *   assertion = base64url(JSON {link, tenant, sub, exp}) + "." + base64url(HMAC-SHA256(secret, first part))
 *
 * `link` is the connect link's id, `tenant` the tenant the user belongs to, `sub` the
 * application's id for the user, `exp` seconds since the epoch (at most 5 minutes ahead).
 * When the proxied call named its user (`keygate-user`), `sub` must be that user.
 */
export const USER_HEADER = 'keygate-user';
const MAX_AHEAD_SECONDS = 300;
const USER = /^[\x21-\x7e]{1,256}$/;

/** The user a proxied call names, hashed (the link stores no personal data); undefined without one. */
export function subjectOf(value: unknown): string | undefined {
  if (typeof value !== 'string' || !USER.test(value)) return undefined;
  return createHash('sha256').update(value).digest('base64url');
}

export interface AssertionSubject {
  link: string;
  tenant: string;
  /** The link's subject hash, when the call that made it named a user. */
  subject: string | undefined;
}

const invalid = () => new KeygateError('connect_identity_invalid');

/** Checks an assertion; throws `connect_identity_invalid` unless it is signed, fresh and for this link, tenant and user. */
export function verifyAssertion(
  secret: string,
  assertion: string,
  expected: AssertionSubject,
  now = Date.now(),
): void {
  const [payload, signature, extra] = assertion.split('.');
  if (!payload || !signature || extra !== undefined) throw invalid();
  const mac = createHmac('sha256', secret).update(payload).digest();
  const given = Buffer.from(signature, 'base64url');
  if (given.length !== mac.length || !timingSafeEqual(given, mac)) throw invalid();
  let claims: { link?: unknown; tenant?: unknown; sub?: unknown; exp?: unknown };
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw invalid();
  }
  const seconds = now / 1000;
  const fresh =
    typeof claims.exp === 'number' && claims.exp > seconds && claims.exp <= seconds + MAX_AHEAD_SECONDS;
  const sameUser = expected.subject === undefined || subjectOf(claims.sub) === expected.subject;
  if (!fresh || claims.link !== expected.link || claims.tenant !== expected.tenant || !sameUser)
    throw invalid();
}

/** Signs an assertion as the embedding application would (tests and docs use it). */
export function signAssertion(
  secret: string,
  claims: { link: string; tenant: string; sub: string; exp: number },
) {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
}
