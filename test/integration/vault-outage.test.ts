import { afterAll, describe, expect, it } from 'vitest';
import { isKeygateError } from '../../src/errors.ts';
import { prepareVault, startBao, type BaoServer } from '../support/bao.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { makeStore, type TestStore } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const ADMIN = 'admin-token-outage-0123456789';

// Kills and restarts its own OpenBao, so it does not use the shared one.
describe('credential reads while OpenBao is down', () => {
  let bao: BaoServer | undefined;
  let t: TestStore | undefined;
  let keygate: TestKeygate | undefined;
  afterAll(async () => {
    t?.close();
    await keygate?.close();
    await bao?.stop();
  });

  it('serves cached credentials within the staleness bound, fails fast otherwise, and recovers', async () => {
    bao = await startBao();
    await prepareVault(bao);
    const yaml = `
vault: { retryBudgetMs: 300, timeoutMs: 1000 }
cache: { ttlSeconds: 0.2, maxStaleSeconds: 2 }
admin: { token: ${ADMIN} }
integrations:
  github: { template: github, auth: { type: oauth2, clientId: c } }
`;
    t = await makeStore(bao, yaml);
    keygate = await startTestKeygate(yaml, { VAULT_ADDR: bao.address, VAULT_TOKEN: bao.token });
    await t.store.put(credentialRef('acme', 'github'), {
      authType: 'oauth2',
      secret: { accessToken: 'cached-token' },
    });
    await t.store.put(credentialRef('acme', 'slack'), {
      authType: 'oauth2',
      secret: { accessToken: 'never-read' },
    });
    t.store.invalidate(credentialRef('acme', 'slack'));
    expect((await t.store.get(credentialRef('acme', 'github'))).secret.accessToken).toBe('cached-token');

    await bao.kill();
    const killedAt = Date.now();
    // Past the TTL but within maxStale: still served, with a warning in the log.
    await waitFor('the TTL to pass', () => Date.now() - killedAt > 300);
    expect((await t.store.get(credentialRef('acme', 'github'))).secret.accessToken).toBe('cached-token');
    expect(t.lines.some((l) => l.includes('credential_stale_served'))).toBe(true);

    // Never cached: a typed error, fast.
    const started = Date.now();
    const err = await t.store.get(credentialRef('acme', 'slack')).catch((e: unknown) => e);
    expect(isKeygateError(err, 'vault_unavailable')).toBe(true);
    expect(Date.now() - started).toBeLessThan(2000);

    // At the HTTP edge: 503 with Retry-After and the stable code.
    const res = await fetch(`${keygate.url}/v1/tenants/acme/credentials/github`, {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(res.status).toBe(503);
    expect(res.headers.get('x-keygate-error')).toBe('vault_unavailable');
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);

    // Past the staleness bound, the cached one fails too.
    await waitFor(
      'the cached credential to go past maxStale',
      async () =>
        isKeygateError(
          await t!.store.get(credentialRef('acme', 'github')).catch((e: unknown) => e),
          'vault_unavailable',
        ),
      { timeoutMs: 5000, intervalMs: 200 },
    );

    // A new OpenBao on the same address (in memory, so empty): Keygate works again.
    bao = await startBao({ port: bao.port, token: bao.token });
    await prepareVault(bao);
    await waitFor('a write to succeed again', async () => {
      await t!.store.put(credentialRef('acme', 'github'), {
        authType: 'oauth2',
        secret: { accessToken: 'after-restart' },
      });
      return true;
    });
    t.store.invalidate(credentialRef('acme', 'github'));
    expect((await t.store.get(credentialRef('acme', 'github'))).secret.accessToken).toBe('after-restart');
  });
});
