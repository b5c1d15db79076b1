import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { makeRefresher, providerIntegration, recordEvents, type TestRefresher } from '../support/refresh.ts';
import { uniqueTenant } from '../support/store.ts';
import { errorCodeOf } from '../support/http.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');

// A KV prefix of its own: Keygates started by other test files never schedule these credentials.
const PREFIX = `kgtest-${Math.random().toString(36).slice(2, 8)}`;
const yaml = (provider: OAuthProvider, name = 'crm') => `
vault: { prefix: ${PREFIX} }
refresh: { bufferSeconds: 300, clockSkewSeconds: 30, defaultExpiresInSeconds: 1800, minBackoffMs: 20, leaseSeconds: 5, tokenTimeoutMs: 2000 }
integrations:
${providerIntegration(name, provider)}`;

const codeOf = errorCodeOf;

describe('Refresher on OpenBao with a rotating provider', () => {
  let provider: OAuthProvider;
  let t: TestRefresher;
  const tenant = uniqueTenant('refresher');

  beforeAll(async () => {
    provider = await startOAuthProvider({ authMethod: 'client_secret_basic', expiresIn: 3600 });
    t = await makeRefresher(vault, yaml(provider));
  });
  afterAll(async () => {
    t.close();
    await provider.stop();
  });

  async function store(family: string, expiresInMs = -1000) {
    const pair = provider.issue(family);
    await t.store.put(credentialRef(tenant, 'crm'), {
      authType: 'oauth2',
      secret: { ...pair, tokenType: 'bearer' },
      expiresAt: new Date(Date.now() + expiresInMs).toISOString(),
    });
    return pair;
  }

  it('rotates the pair, writes it with check-and-set, and computes expiry from receive time minus skew', async () => {
    const events = recordEvents(t.refresher);
    const old = await store('rotate');
    const before = Date.now();
    const refreshed = await t.refresher.refresh(credentialRef(tenant, 'crm'), { reason: 'scheduled' });
    const after = Date.now();
    const current = provider.current('rotate');
    expect(refreshed.secret.accessToken).toBe(current?.accessToken);
    expect(refreshed.secret.refreshToken).toBe(current?.refreshToken);
    expect(refreshed.secret.refreshToken).not.toBe(old.refreshToken);
    const expiresAt = Date.parse(refreshed.expiresAt ?? '');
    expect(expiresAt).toBeGreaterThanOrEqual(before + (3600 - 30) * 1000 - 1);
    expect(expiresAt).toBeLessThanOrEqual(after + (3600 - 30) * 1000 + 1);
    const stored = await t.store.read(credentialRef(tenant, 'crm'));
    expect(stored.secret.refreshToken).toBe(current?.refreshToken);
    expect(stored.status).toBe('active');
    expect(stored.lastRefreshedAt).not.toBeNull();
    expect(events.map((e) => e.name)).toEqual(['refresh-success']);
    expect(events[0]).toMatchObject({ tenant, integration: 'crm', attempt: 1, persisted: true });
    expect(JSON.stringify(events)).not.toContain(current?.accessToken);
    expect(JSON.stringify(events)).not.toContain(current?.refreshToken);
  });

  it('shares one refresh between concurrent callers, and skips one that is already fresh', async () => {
    await store('concurrent');
    const before = provider.counts.refreshes;
    const results = await Promise.all(
      Array.from({ length: 10 }, () =>
        t.refresher.refresh(credentialRef(tenant, 'crm'), { reason: 'unauthorized' }),
      ),
    );
    expect(provider.counts.refreshes - before).toBe(1);
    expect(new Set(results.map((c) => c.secret.accessToken)).size).toBe(1);
    // Scheduled but not due: no provider call.
    await t.refresher.refresh(credentialRef(tenant, 'crm'), { reason: 'scheduled' });
    expect(provider.counts.refreshes - before).toBe(1);
  });

  it('returns the stored credential when its access token already differs from the refused one', async () => {
    const old = await store('stale');
    const fresh = await t.refresher.refresh(credentialRef(tenant, 'crm'), { reason: 'forced' });
    const before = provider.counts.refreshes;
    const again = await t.refresher.refresh(credentialRef(tenant, 'crm'), {
      reason: 'unauthorized',
      staleAccessToken: old.accessToken,
    });
    expect(provider.counts.refreshes).toBe(before);
    expect(again.secret.accessToken).toBe(fresh.secret.accessToken);
  });

  it('two transient failures then success: 2 refresh-retry and 1 refresh-success', async () => {
    await store('transient');
    const events = recordEvents(t.refresher);
    provider.inject({ status: 503 }, { status: 429, retryAfter: '0' });
    const before = provider.counts.requests;
    await t.refresher.refresh(credentialRef(tenant, 'crm'), { reason: 'scheduled' });
    expect(provider.counts.requests - before).toBe(3);
    expect(events.map((e) => e.name)).toEqual(['refresh-retry', 'refresh-retry', 'refresh-success']);
    expect(events.map((e) => e.attempt)).toEqual([2, 3, 3]);
    expect(events[0]).toMatchObject({ error: 'http_503', delayMs: 20 });
    expect(events[1]).toMatchObject({ error: 'http_429', delayMs: 40 });
  });

  it('invalid_grant: needs_reauth, refresh-failed permanent, and no further calls to the provider', async () => {
    await store('revoked');
    provider.inject({ status: 400, body: { error: 'invalid_grant' } });
    const events = recordEvents(t.refresher);
    expect(await codeOf(t.refresher.refresh(credentialRef(tenant, 'crm'), { reason: 'scheduled' }))).toBe(
      'credential_refresh_failed',
    );
    expect((await t.store.read(credentialRef(tenant, 'crm'))).status).toBe('needs_reauth');
    expect(events).toEqual([
      expect.objectContaining({
        name: 'refresh-failed',
        permanent: true,
        error: 'invalid_grant',
        attempt: 1,
      }),
    ]);
    const calls = provider.counts.requests;
    expect(await codeOf(t.refresher.refresh(credentialRef(tenant, 'crm'), { reason: 'unauthorized' }))).toBe(
      'credential_refresh_failed',
    );
    expect(await codeOf(t.refresher.refresh(credentialRef(tenant, 'crm'), { reason: 'forced' }))).toBe(
      'credential_refresh_failed',
    );
    expect(provider.counts.requests).toBe(calls);
  });

  it('transient failures past the retries: refresh_failed status, refresh-failed not permanent', async () => {
    await store('down');
    provider.inject({ status: 502 }, { drop: true }, { status: 500 }, { status: 503 });
    const events = recordEvents(t.refresher);
    expect(await codeOf(t.refresher.refresh(credentialRef(tenant, 'crm'), { reason: 'scheduled' }))).toBe(
      'token_endpoint_unavailable',
    );
    expect(events.map((e) => e.name)).toEqual([
      'refresh-retry',
      'refresh-retry',
      'refresh-retry',
      'refresh-failed',
    ]);
    expect(events.at(-1)).toMatchObject({ permanent: false, attempt: 4, error: 'http_503' });
    expect((await t.store.read(credentialRef(tenant, 'crm'))).status).toBe('refresh_failed');
    // The family was never spent: the next refresh succeeds.
    await t.refresher.refresh(credentialRef(tenant, 'crm'), { reason: 'scheduled' });
    expect((await t.store.read(credentialRef(tenant, 'crm'))).status).toBe('active');
  });

  it('two replicas (two Vault sessions, two lease holders) race over 20 credentials: one refresh each', async () => {
    const other = await makeRefresher(vault, yaml(provider));
    try {
      const raceTenant = uniqueTenant('race');
      const names = Array.from({ length: 20 }, (_, i) => `race${i}`);
      for (const family of names) {
        const pair = provider.issue(`${raceTenant}-${family}`);
        // One tenant per credential: one integration in the configuration serves them all.
        await t.store.put(credentialRef(`${raceTenant}-${family}`, 'crm'), {
          authType: 'oauth2',
          secret: pair,
          expiresAt: new Date(Date.now() - 1).toISOString(),
        });
      }
      const invalidBefore = provider.counts.invalidGrant;
      const refreshesBefore = provider.counts.refreshes;
      await Promise.all(
        names.flatMap((family) =>
          [t.refresher, other.refresher].map((r) =>
            r.refresh(credentialRef(`${raceTenant}-${family}`, 'crm'), { reason: 'scheduled' }),
          ),
        ),
      );
      expect(provider.counts.invalidGrant - invalidBefore).toBe(0);
      expect(provider.counts.refreshes - refreshesBefore).toBe(20);
      for (const family of names) expect(provider.refreshTimes(`${raceTenant}-${family}`)).toHaveLength(1);
    } finally {
      other.close();
    }
  });
});

describe('Refresher token requests', () => {
  it('client_secret_post; no expires_in means refresh.defaultExpiresInSeconds; no new refresh token keeps the old', async () => {
    const provider = await startOAuthProvider({
      authMethod: 'client_secret_post',
      expiresIn: null,
      rotate: false,
    });
    const t = await makeRefresher(vault, yaml(provider, 'posted'));
    try {
      const tenant = uniqueTenant('post');
      const pair = provider.issue('post');
      await t.store.put(credentialRef(tenant, 'posted'), {
        authType: 'oauth2',
        secret: pair,
        expiresAt: new Date(Date.now() - 1).toISOString(),
      });
      const before = Date.now();
      const refreshed = await t.refresher.refresh(credentialRef(tenant, 'posted'), { reason: 'scheduled' });
      expect(provider.counts).toMatchObject({ refreshes: 1, invalidClient: 0 });
      expect(refreshed.secret.refreshToken).toBe(pair.refreshToken);
      expect(refreshed.secret.accessToken).not.toBe(pair.accessToken);
      const after = Date.now();
      const expiresAt = Date.parse(refreshed.expiresAt ?? '');
      expect(expiresAt).toBeGreaterThanOrEqual(before + (1800 - 30) * 1000 - 1);
      expect(expiresAt).toBeLessThanOrEqual(after + (1800 - 30) * 1000 + 1);
      expect((await t.store.read(credentialRef(tenant, 'posted'))).secret.refreshToken).toBe(
        pair.refreshToken,
      );
    } finally {
      t.close();
      await provider.stop();
    }
  });

  it('a wrong client authentication method is invalid_client: permanent, needs_reauth', async () => {
    const provider = await startOAuthProvider({ authMethod: 'client_secret_post' });
    // Keygate is told to use client_secret_basic; the provider insists on _post.
    const basic = {
      ...provider,
      options: { ...provider.options, authMethod: 'client_secret_basic' as const },
    };
    const t = await makeRefresher(vault, yaml(basic, 'strict'));
    try {
      const tenant = uniqueTenant('basic');
      await t.store.put(credentialRef(tenant, 'strict'), {
        authType: 'oauth2',
        secret: provider.issue('strict'),
        expiresAt: new Date(Date.now() - 1).toISOString(),
      });
      expect(
        await codeOf(t.refresher.refresh(credentialRef(tenant, 'strict'), { reason: 'scheduled' })),
      ).toBe('credential_refresh_failed');
      expect(provider.counts).toMatchObject({ invalidClient: 1, refreshes: 0 });
      expect((await t.store.read(credentialRef(tenant, 'strict'))).status).toBe('needs_reauth');
    } finally {
      t.close();
      await provider.stop();
    }
  });

  it('honours a Retry-After longer than the backoff', async () => {
    const provider = await startOAuthProvider();
    const t = await makeRefresher(vault, yaml(provider, 'slowdown'));
    try {
      const tenant = uniqueTenant('retry-after');
      await t.store.put(credentialRef(tenant, 'slowdown'), {
        authType: 'oauth2',
        secret: provider.issue('slowdown'),
        expiresAt: new Date(Date.now() - 1).toISOString(),
      });
      const events = recordEvents(t.refresher);
      provider.inject({ status: 429, retryAfter: '1' });
      const started = Date.now();
      await t.refresher.refresh(credentialRef(tenant, 'slowdown'), { reason: 'scheduled' });
      expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
      expect(events[0]).toMatchObject({ name: 'refresh-retry', delayMs: 1000, error: 'http_429' });
    } finally {
      t.close();
      await provider.stop();
    }
  });

  it('client credentials: a new access token from the client_credentials grant', async () => {
    const provider = await startOAuthProvider();
    const t = await makeRefresher(
      vault,
      yaml(provider, 'machine').replace('type: oauth2', 'type: oauth2_client_credentials'),
    );
    try {
      const tenant = uniqueTenant('machine');
      await t.store.put(credentialRef(tenant, 'machine'), {
        authType: 'oauth2_client_credentials',
        secret: { accessToken: 'at-initial' },
        expiresAt: new Date(Date.now() - 1).toISOString(),
      });
      const refreshed = await t.refresher.refresh(credentialRef(tenant, 'machine'), { reason: 'scheduled' });
      expect(refreshed.secret.accessToken).toBe(provider.current('client-credentials')?.accessToken);
      expect(refreshed.secret.refreshToken).toBeUndefined();
    } finally {
      t.close();
      await provider.stop();
    }
  });
});
