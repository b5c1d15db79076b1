import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isKeygateError } from '../errors.ts';
import { MAX_USER_BYTES, signAssertion, subjectHash, subjectOf, verifyAssertion } from './identity.ts';

// What Node hands over for a header whose bytes are the UTF-8 of `user`.
const header = (user: string) => Buffer.from(user, 'utf8').toString('latin1');
const refused = (f: () => unknown) => {
  try {
    f();
  } catch (err) {
    return isKeygateError(err, 'keygate_user_invalid');
  }
  return false;
};

describe('link subjects: one hashing for the keygate-user header and the assertion sub', () => {
  it('hashes an ASCII id as before (links made by earlier versions still match)', () => {
    expect(subjectHash('alice')).toBe(createHash('sha256').update('alice').digest('base64url'));
    expect(subjectOf('alice')).toBe(subjectHash('alice'));
    // The same bytes a token's sub is hashed from elsewhere: SHA-256 of its UTF-8, base64url.
    expect(subjectHash('josé')).toBe(createHash('sha256').update('josé', 'utf8').digest('base64url'));
  });

  it('reads the header as UTF-8 bytes: a non-ASCII id in the header is the same user as in a sub', () => {
    for (const user of ['josé', 'ñandú 🦤, the second', 'alice smith', `u${'x'.repeat(299)}`]) {
      expect(subjectOf(header(user))).toBe(subjectHash(user));
    }
  });

  it('is exact: case, spaces and normalisation make other users', () => {
    const nfc = 'José';
    expect(subjectHash(nfc)).not.toBe(subjectHash(nfc.normalize('NFD')));
    expect(subjectHash('alice')).not.toBe(subjectHash('Alice'));
    expect(subjectHash('alice')).not.toBe(subjectHash('alice '));
  });

  it('is undefined without the header, and refuses what no one can be bound to', () => {
    expect(subjectOf(undefined)).toBeUndefined();
    expect(subjectOf(header('é'.repeat(MAX_USER_BYTES / 2)))).toBe(
      subjectHash('é'.repeat(MAX_USER_BYTES / 2)),
    );
    for (const value of ['', 'y'.repeat(MAX_USER_BYTES + 1), 'jos\u00e9', '\u00ff\u00fe', ['a', 'b'], 42]) {
      expect(
        refused(() => subjectOf(value)),
        JSON.stringify(value),
      ).toBe(true);
    }
    for (const user of ['', 'é'.repeat(MAX_USER_BYTES / 2 + 1), 'a\ud800b', '\udc00']) {
      expect(
        refused(() => subjectHash(user)),
        JSON.stringify(user),
      ).toBe(true);
    }
  });

  it('an assertion matches the link only for the same user; an unbindable sub matches nothing', () => {
    const secret = 'a-secret-of-at-least-thirty-two-characters';
    const exp = Math.floor(Date.now() / 1000) + 60;
    const check = (sub: string, user: string) => {
      const assertion = signAssertion(secret, { link: 'L', tenant: 't', sub, exp });
      try {
        verifyAssertion(secret, assertion, { link: 'L', tenant: 't', subject: subjectOf(header(user)) });
        return true;
      } catch (err) {
        if (isKeygateError(err, 'connect_identity_invalid')) return false;
        throw err;
      }
    };
    expect(check('josé', 'josé')).toBe(true);
    expect(check('bob', 'josé')).toBe(false);
    expect(check('jose', 'josé')).toBe(false);
    expect(check('\ud800', '\ufffd')).toBe(false);
  });
});
