import { createHmac, createSecretKey, randomBytes, timingSafeEqual, type KeyObject } from 'node:crypto';

/** A Keygate key as a caller holds it: `kg_<id>.<secret>`. Only the id is ever stored in clear. */
export interface KeyParts {
  id: string;
  secret: string;
}

const KEY_SHAPE = /^kg_([a-z0-9]{16,64})\.([A-Za-z0-9_-]{32,128})$/;
export const KEY_ID_PATTERN = '^[a-z0-9]{16,64}$';

/** A fresh key: a 64-bit id (hex) and a 256-bit secret (base64url). */
export function generateKey(): KeyParts & { key: string } {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, secret, key: `kg_${id}.${secret}` };
}

/** The parts of a well-formed key, or undefined; never throws on caller input. */
export function parseKey(value: string): KeyParts | undefined {
  const match = KEY_SHAPE.exec(value);
  return match?.[1] && match[2] ? { id: match[1], secret: match[2] } : undefined;
}

export function looksLikeKey(value: string): boolean {
  return value.startsWith('kg_');
}

/**
 * The stored digest of a secret. The secret is 256 random bits, so a keyed hash
 * (HMAC-SHA256 with a per-key salt) is enough: there is nothing to brute-force.
 */
export function hashSecret(secret: string, salt: string | KeyObject): string {
  return digest(secret, typeof salt === 'string' ? saltKey(salt) : salt).toString('base64url');
}

/** The salt as an HMAC key, made once per cached key: building a KeyObject per request is costly. */
export function saltKey(salt: string): KeyObject {
  return createSecretKey(Buffer.from(salt, 'base64url'));
}

const digest = (secret: string, key: KeyObject) => createHmac('sha256', key).update(secret).digest();

export function newSalt(): string {
  return randomBytes(16).toString('base64url');
}

/** Compares in constant time for a given digest length. */
export function secretMatches(
  secret: string,
  salt: string | KeyObject,
  storedHash: string | Buffer,
): boolean {
  const actual = digest(secret, typeof salt === 'string' ? saltKey(salt) : salt);
  const expected = typeof storedHash === 'string' ? Buffer.from(storedHash, 'base64url') : storedHash;
  return actual.length === expected.length && timingSafeEqual(actual, expected);
}
