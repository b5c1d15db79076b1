import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectUpToCallback, providerIntegration } from '../support/connect.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { uniqueTenant } from '../support/store.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-fresh-connect-0123456789';

// Regression: a 90-second token stored by the connect callback was refreshed right after
// it: the due time came out "now" for any token shorter than the refresh buffer unless
// the scheduler itself had just refreshed it. It now follows from the stored record.
describe('a token that arrives through connect is fresh', () => {
  let provider: OAuthProvider;
  let keygate: TestKeygate;

  beforeAll(async () => {
    provider = await startOAuthProvider({ expiresIn: 90 });
    keygate = await startTestKeygate(
      `admin: { token: ${ADMIN} }
refresh: { bufferSeconds: 300 }
integrations:
${providerIntegration('acme', provider)}`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
  });
  afterAll(async () => {
    await keygate?.close();
    await provider?.stop();
  });

  it('is renewed halfway through its life, not at once, and a resync agrees', async () => {
    const tenant = uniqueTenant('fresh');
    const callback = await connectUpToCallback(keygate.url, ADMIN, tenant, 'acme');
    const done = await fetch(callback, { headers: { accept: 'application/json' } });
    expect(done.status).toBe(200);
    const stored = await keygate.store.metadata(credentialRef(tenant, 'acme'));
    const obtainedAt = Date.parse(stored.lastRefreshedAt as string);
    const life = Date.parse(stored.expiresAt as string) - obtainedAt;
    expect(life).toBeLessThan(300_000);
    const halfway = obtainedAt + life / 2;
    expect(keygate.refresh.scheduler.dueAt(credentialRef(tenant, 'acme'))).toBe(halfway);
    // The fleet-wide listing (start-up, resync, another replica) gives the same due time.
    await keygate.refresh.resync.runOnce();
    expect(keygate.refresh.scheduler.dueAt(credentialRef(tenant, 'acme'))).toBe(halfway);
    // The first token request was the code exchange; no refresh has been asked for.
    expect(provider.counts.refreshes).toBe(0);
  });
});
