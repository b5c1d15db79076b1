import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { isKeygateError } from '../errors.ts';
import { accountFor, accountName } from './account.ts';
import type { Caller } from './caller.ts';

const codeOf = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (isKeygateError(err)) return err.code;
    throw err;
  }
  return 'allowed';
};

describe('accountName', () => {
  it('keeps a valid name and maps anything else to u- + 32 hex of its SHA-256', () => {
    expect(accountName('alice')).toBe('alice');
    expect(accountName('a-b_c9')).toBe('a-b_c9');
    for (const value of [
      'Alice',
      'alice@example.com',
      'spiffe://acme.org/ns/x',
      'x'.repeat(64),
      '-lead',
      'é',
    ]) {
      const expected = `u-${createHash('sha256').update(value).digest('hex').slice(0, 32)}`;
      expect(accountName(value)).toBe(expected);
      expect(expected).toMatch(/^u-[0-9a-f]{32}$/);
    }
  });
});

describe('accountFor', () => {
  const any: Caller = { kind: 'key', id: 'k1' };
  const pinned: Caller = { kind: 'token', id: 't_1', account: 'alice', accounts: ['alice'] };
  const several: Caller = { kind: 'key', id: 'k2', accounts: ['alice', 'bob'] };

  it('a caller with every account: the header, else default', () => {
    expect(accountFor(any, undefined)).toBe('default');
    expect(accountFor(any, 'bob')).toBe('bob');
  });

  it('a pinned caller: its account, and 403 account_not_allowed for any other', () => {
    expect(accountFor(pinned, undefined)).toBe('alice');
    expect(accountFor(pinned, 'alice')).toBe('alice');
    expect(codeOf(() => accountFor(pinned, 'bob'))).toBe('account_not_allowed');
    expect(codeOf(() => accountFor(pinned, 'default'))).toBe('account_not_allowed');
  });

  it('a caller limited to several: one of them by header; default only when listed', () => {
    expect(accountFor(several, 'bob')).toBe('bob');
    expect(codeOf(() => accountFor(several, undefined))).toBe('account_not_allowed');
    expect(codeOf(() => accountFor(several, 'carol'))).toBe('account_not_allowed');
  });

  it('a malformed header is 400 invalid_name before any allow-list', () => {
    for (const bad of ['Bob', 'alice, bob', '', ['alice', 'bob']]) {
      expect(codeOf(() => accountFor(pinned, bad))).toBe('invalid_name');
    }
  });
});
