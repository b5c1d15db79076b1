import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { accountName } from './account.ts';

const hashed = (value: string) => `u-${createHash('sha256').update(value).digest('hex').slice(0, 32)}`;

/**
 * Review finding (issue 20): a claim value that happens to be a valid name is used as the
 * account verbatim, so it can land on an account that is not the caller's own. The documented
 * Kubernetes recipe (`account: {claim: [kubernetes.io, serviceaccount, name]}`) pins every pod
 * that runs as the namespace's `default` service account (every pod that names none) to the
 * tenant's shared `default` account; a user-chosen claim (`preferred_username`, a repository
 * name) can name `default`, or another user's hashed account.
 */
describe('a pinned account never collides with the shared account or a hashed one', () => {
  it('a claim value "default" is not the tenant’s default account', () => {
    expect(accountName('default')).not.toBe('default');
  });

  it('a claim value shaped like a hashed account is not that account', () => {
    const someoneElse = hashed('alice@example.com');
    expect(accountName(someoneElse)).not.toBe(someoneElse);
  });
});
