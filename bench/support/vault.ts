// The Vault a bench runs against: VAULT_ADDR/VAULT_TOKEN when both are set (a real
// cluster, say), else a `bao server -dev` of its own; prepared either way (Transit, KV).
import { prepareVault, startBao, type VaultTarget } from '../../src/vault/dev-server.ts';

export interface BenchVault {
  target: VaultTarget;
  /** Stops the dev server this bench started; nothing for a Vault it was given. */
  stop: () => Promise<void>;
}

export async function benchVault(): Promise<BenchVault> {
  let bench: BenchVault;
  const address = process.env['VAULT_ADDR'];
  const token = process.env['VAULT_TOKEN'];
  if (address && token) {
    bench = { target: { address, token }, stop: async () => {} };
  } else {
    const bao = await startBao();
    bench = { target: bao, stop: () => bao.stop() };
  }
  await prepareVault(bench.target);
  return bench;
}
