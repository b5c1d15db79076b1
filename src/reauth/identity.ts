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
/** The longest user id a link is bound to, in UTF-8 bytes: longer is refused, never cut. */
export const MAX_USER_BYTES = 1024;
const MAX_AHEAD_SECONDS = 300;
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
const LONE_SURROGATE = /\p{Cs}/u;

const invalidUser = () => new KeygateError('keygate_user_invalid');

/**
 * The one hashing of a user id into a link's `subject` (the link stores no personal data):
 * SHA-256 of its UTF-8 bytes, base64url. Exact: no case folding, trimming or Unicode
 * normalisation, so two ids are one user only when they are the same string. Every
 * binding (the `keygate-user` header, the application's assertion, a sign-in's `sub`)
 * goes through here. Throws `keygate_user_invalid` for an id no one can be bound to:
 * empty, over MAX_USER_BYTES, or not well-formed Unicode (a lone surrogate).
 */
export function subjectHash(user: string): string {
  if (user.length === 0 || LONE_SURROGATE.test(user)) throw invalidUser();
  const bytes = Buffer.from(user, 'utf8');
  if (bytes.length > MAX_USER_BYTES) throw invalidUser();
  return createHash('sha256').update(bytes).digest('base64url');
}

/**
 * The user a proxied call names in `keygate-user`, hashed; undefined without the header.
 * Node hands a header's bytes over as Latin-1, so they are taken back to bytes and read as
 * UTF-8: any value HTTP carries (spaces, commas, non-ASCII) names a user. Throws
 * `keygate_user_invalid` (400) for one that names no one Keygate can bind: empty, over
 * MAX_USER_BYTES, or not UTF-8. Never dropped: a link made without the user would take
 * any user's assertion.
 */
export function subjectOf(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw invalidUser();
  const bytes = Buffer.from(value, 'latin1');
  if (bytes.length > MAX_USER_BYTES) throw invalidUser();
  let user: string;
  try {
    user = UTF8.decode(bytes);
  } catch {
    throw invalidUser();
  }
  return subjectHash(user);
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
  const sameUser = expected.subject === undefined || subjectOfClaim(claims.sub) === expected.subject;
  if (!fresh || claims.link !== expected.link || claims.tenant !== expected.tenant || !sameUser)
    throw invalid();
}

function subjectOfClaim(sub: unknown): string | undefined {
  if (typeof sub !== 'string') return undefined;
  try {
    return subjectHash(sub);
  } catch {
    return undefined;
  }
}

/** Signs an assertion as the embedding application would (tests and docs use it). */
export function signAssertion(
  secret: string,
  claims: { link: string; tenant: string; sub: string; exp: number },
) {
  const payload = Buffer.from(JSON.stringify(claims)).toString('base64url');
  return `${payload}.${createHmac('sha256', secret).update(payload).digest('base64url')}`;
}
