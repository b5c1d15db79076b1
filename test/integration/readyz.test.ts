import { afterAll, describe, expect, it } from 'vitest';
import { startBao, type BaoServer } from '../support/bao.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
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
