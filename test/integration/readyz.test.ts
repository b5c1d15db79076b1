import { afterAll, describe, expect, it } from 'vitest';
import { startBao, type BaoServer } from '../support/bao.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { waitFor } from '../support/wait.ts';

// This test kills and restarts its own OpenBao, so it does not use the shared one.
describe('/readyz follows Vault', () => {
  let bao: BaoServer | undefined;
  let keygate: TestKeygate | undefined;
  afterAll(async () => {
    await keygate?.close();
    await bao?.stop();
  });

  it('is 200 with Vault up, 503 once it dies, 200 again after a restart on the same address', async () => {
    bao = await startBao();
    keygate = await startTestKeygate('', { VAULT_ADDR: bao.address, VAULT_TOKEN: bao.token });
    const readyz = () => fetch(`${keygate!.url}/readyz`);

    expect((await readyz()).status).toBe(200);
    const healthz = await fetch(`${keygate.url}/healthz`);
    expect(healthz.status).toBe(200);

    await bao.kill();
    const down = await waitFor(
      '503 from /readyz',
      async () => {
        const res = await readyz();
        return res.status === 503 ? res : undefined;
      },
      { timeoutMs: 5000 },
    );
    expect(await down.json()).toEqual({ status: 'not_ready', reason: 'vault_unreachable' });
    // Liveness is not readiness: the process itself is fine.
    expect((await fetch(`${keygate.url}/healthz`)).status).toBe(200);

    bao = await startBao({ port: bao.port, token: bao.token });
    await waitFor('200 from /readyz', async () => (await readyz()).status === 200, { timeoutMs: 10_000 });
  });
});

describe('/readyz reasons', () => {
  let bao: BaoServer | undefined;
  let keygate: TestKeygate | undefined;
  afterAll(async () => {
    await keygate?.close();
    await bao?.stop();
  });

  it('says vault_token_refused for a revoked token and vault_sealed for a sealed Vault', async () => {
    bao = await startBao();
    const root = vaultAdmin(bao);
    const child = await root('POST', 'auth/token/create', { policies: ['default'], ttl: '1h' });
    const token: string = child.body.auth.client_token;
    keygate = await startTestKeygate('', { VAULT_ADDR: bao.address, VAULT_TOKEN: token });
    const reason = async () => {
      const res = await fetch(`${keygate!.url}/readyz`);
      const body = (await res.json()) as { reason?: string };
      return { http: res.status, reason: body.reason };
    };
    expect(await reason()).toEqual({ http: 200, reason: undefined });

    await root('POST', 'auth/token/revoke', { token });
    expect(await reason()).toEqual({ http: 503, reason: 'vault_token_refused' });

    await root('POST', 'sys/seal');
    expect(await reason()).toEqual({ http: 503, reason: 'vault_sealed' });
  });
});
