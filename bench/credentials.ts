// Credential read costs, as ratios to a raw node-vault KV read measured in the same run:
//   npm run bench:credentials
// Cold read = KV v2 read + Transit decrypt (what a cache miss costs); cache hit = store.get
// on a cached credential. Uses VAULT_ADDR/VAULT_TOKEN when set, else its own `bao server -dev`.
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../src/config/load.ts';
import { createCredentialStore } from '../src/credentials/store.ts';
import { createLogger } from '../src/observability/logger.ts';
import { benchVault } from './support/vault.ts';
import { VaultSession } from '../src/vault/session.ts';
import { credentialRef, type CredentialRef } from '../src/credentials/ref.ts';

const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 10);
const PER_ROUND = Number(process.env['BENCH_PER_ROUND'] ?? 200);
const HITS = 200_000;

const { target, stop } = await benchVault();

const config = parseConfig('cache: { ttlSeconds: 3600 }\n', {
  VAULT_ADDR: target.address,
  VAULT_TOKEN: target.token,
});
const logger = createLogger({ silent: true });
const vault = new VaultSession(config.vault, logger);
await vault.start();
const { store } = createCredentialStore(vault, config, logger);

const tenants = Array.from({ length: 20 }, (_, i) => `bench-${i}`);
const refs = tenants.flatMap((tenant) =>
  ['github', 'slack'].map((integration) => credentialRef(tenant, integration)),
);
for (const ref of refs) {
  const { tenant, integration } = ref;
  await store.put(ref, {
    authType: 'oauth2',
    secret: { accessToken: `token-${tenant}-${integration}`, refreshToken: 'r'.repeat(64) },
    expiresAt: new Date(Date.now() + 3600_000).toISOString(),
  });
}

const raw: number[] = [];
const cold: number[] = [];
const pick = (i: number) => refs[i % refs.length] as CredentialRef;
// Warm up connections and JIT.
for (let i = 0; i < 200; i += 1) {
  const ref = pick(i);
  await vault.client.read(`secret/data/keygate/credentials/${ref.tenant}/${ref.integration}`);
  await store.read(ref);
}
// Interleaved rounds, so both series see the same machine and the same minute.
for (let round = 0; round < ROUNDS; round += 1) {
  for (let i = 0; i < PER_ROUND; i += 1) {
    const ref = pick(i + round);
    let t0 = performance.now();
    await vault.client.read(`secret/data/keygate/credentials/${ref.tenant}/${ref.integration}`);
    raw.push(performance.now() - t0);
    t0 = performance.now();
    await store.read(ref);
    cold.push(performance.now() - t0);
  }
}

// One ref for every hit, as the proxy hands its request state (one per request) to store.get.
const hit = pick(0);
await store.get(hit);
const hitStart = performance.now();
for (let i = 0; i < HITS; i += 1) await store.get(hit);
const hitMs = (performance.now() - hitStart) / HITS;

const q = (xs: number[], p: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] as number;
};
const fmt = (ms: number) => `${ms.toFixed(3)} ms`;
const rows = [
  ['raw node-vault KV read (baseline)', q(raw, 0.5), q(raw, 0.99)],
  ['cold read: KV read + Transit decrypt', q(cold, 0.5), q(cold, 0.99)],
] as const;
console.log(
  `\ncredential reads, ${raw.length} samples each, ${new Date().toISOString()}, Vault ${target.address}`,
);
for (const [name, p50, p99] of rows) {
  console.log(
    `  ${name.padEnd(40)} p50 ${fmt(p50)}  p99 ${fmt(p99)}  (x${(p50 / q(raw, 0.5)).toFixed(2)} / x${(p99 / q(raw, 0.99)).toFixed(2)} of baseline)`,
  );
}
console.log(
  `  ${'cache hit: store.get'.padEnd(40)} mean ${(hitMs * 1000).toFixed(2)} µs  (x${(hitMs / q(raw, 0.5)).toFixed(4)} of baseline p50)`,
);

vault.close();
await stop();
