import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { LeaseManager } from '../../src/refresh/lease.ts';
import { persistRefreshed } from '../../src/refresh/persist.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { makeRefresher, providerIntegration, recordEvents, type TestRefresher } from '../support/refresh.ts';
import { uniqueTenant } from '../support/store.ts';
import { isStorageWrite, startVaultRecorder, type VaultRecorder } from '../support/vault-recorder.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');

// A KV prefix of its own: Keygates started by other test files never schedule these credentials.
const PREFIX = `kgtest-${Math.random().toString(36).slice(2, 8)}`;
const yaml = (provider: OAuthProvider, refresh: string, vaultExtra = '') => `
vault: { prefix: ${PREFIX}${vaultExtra} }
refresh: { bufferSeconds: 300, clockSkewSeconds: 30, defaultExpiresInSeconds: 1800, minBackoffMs: 20, ${refresh} }
integrations:
${providerIntegration('crm', provider)}`;

const isLeasePath = (path: string) => path.includes(`/${PREFIX}/leases/`);
const isCredentialPath = (path: string) => path.includes(`/${PREFIX}/credentials/`);

describe('refresh lease: two Vault writes, fenced by the credential version', () => {
  let provider: OAuthProvider;
  let recorder: VaultRecorder;
  let a: TestRefresher; // through the recorder
  let b: TestRefresher; // straight to OpenBao
  let c: TestRefresher; // through the recorder, the usual lease
  let d: TestRefresher; // another replica like c
  const tenant = uniqueTenant('fence');

  beforeAll(async () => {
    provider = await startOAuthProvider({ authMethod: 'client_secret_basic', expiresIn: 3600 });
    recorder = await startVaultRecorder(vault.address);
    // A short lease, and Vault calls allowed to take a while (the recorder slows some on purpose).
    const short = 'leaseSeconds: 1, tokenTimeoutMs: 500';
    a = await makeRefresher(
      { ...vault, address: recorder.address },
      yaml(provider, short, ', timeoutMs: 4000'),
    );
    b = await makeRefresher(vault, yaml(provider, short, ', timeoutMs: 4000'));
    // Lease and timeouts as deployed (leaseSeconds well above the token request and a Vault call).
    const usual = 'leaseSeconds: 60, tokenTimeoutMs: 2000';
    c = await makeRefresher({ ...vault, address: recorder.address }, yaml(provider, usual));
    d = await makeRefresher({ ...vault, address: recorder.address }, yaml(provider, usual));
  });
  afterAll(async () => {
    a.close();
    b.close();
    c.close();
    d.close();
    await recorder.stop();
    await provider.stop();
  });

  async function storeDue(family: string) {
    const pair = provider.issue(family);
    await b.store.put(credentialRef(tenant, 'crm', family), {
      authType: 'oauth2',
      secret: pair,
      expiresAt: new Date(Date.now() - 1000).toISOString(),
    });
    return pair;
  }

  it('a refresh writes Vault twice (lease taken, credential written) and the write frees the lease', async () => {
    await storeDue('two');
    const from = recorder.calls.length;
    await c.refresher.refresh(credentialRef(tenant, 'crm', 'two'), { reason: 'scheduled' });
    const writes = recorder.since(from, isStorageWrite);
    expect(
      writes.map((c) =>
        isLeasePath(c.path) ? 'lease' : isCredentialPath(c.path) ? c.path.split('/')[1] : c.path,
      ),
    ).toEqual(['lease', 'data']);
    // No custom_metadata write, no release, no read of the previous record.
    expect(recorder.since(from, (c) => c.method === 'GET' && isCredentialPath(c.path))).toHaveLength(1);
    // Another replica takes the lease at once, without waiting for it to lapse: one lease read, one take.
    const before = recorder.calls.length;
    await d.refresher.refresh(credentialRef(tenant, 'crm', 'two'), { reason: 'forced' });
    expect(recorder.since(before, (c) => isLeasePath(c.path)).map((c) => c.method)).toEqual(['GET', 'POST']);
    expect(provider.counts.invalidGrant).toBe(0);
  });

  // Regression: test/integration/refresher.test.ts "two replicas race over 20 credentials" once
  // saw invalid_grant under heavy load. The lease covered the token request plus one Vault call,
  // but not a slow encrypt + write after the answer: it lapsed, the other replica took it over
  // and spent the refresh token the holder had already rotated.
  it('a holder whose Vault calls after the token answer outlast the lease keeps it: the other replica waits', async () => {
    const old = await storeDue('slow');
    const refreshes = provider.counts.refreshes;
    // Encrypt and credential write through the recorder take 2.5 s each: 5 s, longer than the
    // lease taken for the request (1 s, renewed before the request to cover it plus one Vault call).
    recorder.slow(
      (call) =>
        call.method !== 'GET' && (call.path.startsWith('transit/encrypt') || isCredentialPath(call.path)),
      2500,
    );
    let other: Promise<unknown> | undefined;
    provider.beforeAnswer = () => {
      provider.beforeAnswer = undefined;
      other = b.refresher.refresh(credentialRef(tenant, 'crm', 'slow'), { reason: 'scheduled' });
    };
    try {
      const mine = await a.refresher.refresh(credentialRef(tenant, 'crm', 'slow'), { reason: 'scheduled' });
      const theirs = (await other) as { secret: { refreshToken?: string } };
      expect(provider.counts.invalidGrant).toBe(0);
      expect(provider.counts.refreshes - refreshes).toBe(1);
      expect(theirs.secret.refreshToken).toBe(mine.secret.refreshToken);
      expect(mine.secret.refreshToken).not.toBe(old.refreshToken);
      expect(provider.isRevoked('slow')).toBe(false);
      expect((await b.store.read(credentialRef(tenant, 'crm', 'slow'))).secret.refreshToken).toBe(
        provider.current('slow')?.refreshToken,
      );
    } finally {
      recorder.slow(undefined);
      provider.beforeAnswer = undefined;
    }
  });

  it('a holder that stalled past its lease can neither renew it (so never sends the token) nor overwrite the newer pair', async () => {
    const old = await storeDue('stall');
    // The stalled holder, step by step: lease read, credential read, lease taken.
    const stalled = new LeaseManager({ kv: b.kv, holder: 'stalled-replica', leaseMs: 200 });
    const state = await stalled.read(credentialRef(tenant, 'crm', 'stall'));
    const base = await b.store.read(credentialRef(tenant, 'crm', 'stall'));
    const taken = await stalled.take(state, base.version);
    if (!('lease' in taken)) throw new Error('the stalled holder should have taken the free lease');
    // It stalls; its lease lapses; the other replica takes over and refreshes.
    await expect.poll(() => Date.now() > taken.lease.expiresAt, { timeout: 5000, interval: 50 }).toBe(true);
    const events = recordEvents(a.refresher);
    const refreshed = await a.refresher.refresh(credentialRef(tenant, 'crm', 'stall'), {
      reason: 'scheduled',
    });
    expect(events.map((e) => e.name)).toEqual(['refresh-success']);
    // Waking up, the stalled holder's check before a token request fails: it never spends the old token.
    expect(await taken.lease.ensure(500)).toBe(false);
    // Had it a pair from before the takeover, its write would not replace the newer one.
    const persisted = await persistRefreshed(b.store, base, {
      authType: 'oauth2',
      secret: { accessToken: 'stale-at', refreshToken: 'stale-rt' },
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      status: 'active',
    });
    expect(persisted).toEqual({ superseded: true });
    const stored = await b.store.read(credentialRef(tenant, 'crm', 'stall'));
    expect(stored.secret.refreshToken).toBe(refreshed.secret.refreshToken);
    expect(stored.secret.refreshToken).not.toBe(old.refreshToken);
    expect(provider.isRevoked('stall')).toBe(false);
  });

  it('a refreshed pair is written over a status-only change since its base (a takeover that saw a refusal)', async () => {
    await storeDue('status');
    const base = await b.store.read(credentialRef(tenant, 'crm', 'status'));
    // What a takeover's refusal, or a transient failure, leaves: the same tokens, another version.
    await b.store.setStatus(credentialRef(tenant, 'crm', 'status'), 'refresh_failed', {
      cas: base.version,
      error: 'invalid_grant',
    });
    const persisted = await persistRefreshed(b.store, base, {
      authType: 'oauth2',
      secret: { accessToken: 'new-at', refreshToken: 'new-rt' },
      expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      status: 'active',
    });
    expect('written' in persisted).toBe(true);
    const stored = await b.store.read(credentialRef(tenant, 'crm', 'status'));
    expect(stored).toMatchObject({ status: 'active', secret: { refreshToken: 'new-rt' } });
  });
});
