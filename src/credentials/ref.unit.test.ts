import { describe, expect, it } from 'vitest';
import { leasePath } from '../refresh/lease.ts';
import { credentialPath, transitContext } from './accounts.ts';
import { compareRefs, credentialRef, refKey } from './ref.ts';

// The key and the Vault layout built on it are a contract: records, leases and ciphertexts
// written by earlier releases must still be found (test/integration/accounts-upgrade.test.ts).
describe('CredentialRef', () => {
  const home = credentialRef('acme', 'crm');
  const work = credentialRef('acme', 'crm', 'work');

  it('defaults the account, and names the default account as it was named before accounts', () => {
    expect(home).toEqual({ tenant: 'acme', integration: 'crm', account: 'default' });
    expect(credentialRef('acme', 'crm', 'default')).toEqual(home);
    expect(refKey(home)).toBe('acme/crm');
    expect(credentialPath(home)).toBe('credentials/acme/crm');
    expect(leasePath(home)).toBe('leases/acme/crm');
    expect(transitContext(home)).toBe('crm');
  });

  it('puts any other account one level deeper, in its own Transit context', () => {
    expect(refKey(work)).toBe('acme/crm/work');
    expect(credentialPath(work)).toBe('credentials/acme/crm/work');
    expect(leasePath(work)).toBe('leases/acme/crm/work');
    expect(transitContext(work)).toBe('crm/work');
  });

  it('orders by tenant, then integration, then account with default first', () => {
    const refs = [
      credentialRef('beta', 'crm'),
      credentialRef('acme', 'crm', 'alpha'),
      credentialRef('acme', 'ai'),
      work,
      home,
    ];
    expect(refs.sort(compareRefs).map(refKey)).toEqual([
      'acme/ai',
      'acme/crm',
      'acme/crm/alpha',
      'acme/crm/work',
      'beta/crm',
    ]);
  });
});
