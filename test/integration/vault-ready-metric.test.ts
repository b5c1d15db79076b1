import { afterAll, describe, expect, it } from 'vitest';
import { startBao, type BaoServer } from '../support/bao.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { vaultAdmin } from '../support/vault-admin.ts';

// Seals its own OpenBao, so it does not use the shared one.
describe('keygate_vault_ready and keygate_vault_not_ready on /metrics', () => {
  let bao: BaoServer | undefined;
  let keygate: TestKeygate | undefined;
  afterAll(async () => {
    await keygate?.close();
    await bao?.stop();
  });

  const sample = async (name: string) => {
    const text = await (await fetch(`${keygate!.url}/metrics`)).text();
    return Object.fromEntries(
      text
        .split('\n')
        .filter((l) => l.startsWith(name))
        .map((l) => [l.slice(0, l.lastIndexOf(' ')), Number(l.slice(l.lastIndexOf(' ') + 1))]),
    );
  };

  it('say ready with Vault up, and sealed once it is, reusing a fresh /readyz answer', async () => {
    bao = await startBao();
    keygate = await startTestKeygate('fleet: { pollSeconds: 0 }', {
      VAULT_ADDR: bao.address,
      VAULT_TOKEN: bao.token,
    });
    expect(await sample('keygate_vault_ready')).toEqual({ keygate_vault_ready: 1 });
    expect(Object.values(await sample('keygate_vault_not_ready')).every((v) => v === 0)).toBe(true);

    await vaultAdmin(bao)('POST', 'sys/seal');
    // A scrape right after a /readyz that saw the seal reuses its answer: no Vault request.
    expect((await fetch(`${keygate.url}/readyz`)).status).toBe(503);
    const lookedAt = keygate.vault.lastReadiness?.at;
    expect(await sample('keygate_vault_ready')).toEqual({ keygate_vault_ready: 0 });
    const reasons = await sample('keygate_vault_not_ready');
    expect(reasons['keygate_vault_not_ready{reason="vault_sealed"}']).toBe(1);
    expect(Object.entries(reasons).filter(([, v]) => v === 1)).toHaveLength(1);
    expect(keygate.vault.lastReadiness?.at).toBe(lookedAt);
  });
});
