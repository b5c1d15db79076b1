// The refresh schedule at fleet scale, on a real Vault:
//   npm run bench:schedule                      a `bao server -dev` of its own
//   BENCH_VAULT=raft npm run bench:schedule     a three-node OpenBao Raft cluster of its own
//   VAULT_ADDR=… VAULT_TOKEN=… npm run bench:schedule   that Vault (the seed is kept and reused)
// Seeds BENCH_CREDENTIALS (100000) OAuth credentials, then starts BENCH_REPLICAS (3) Keygates in
// this process, each behind a recorder that counts its Vault requests, and prints: the seed
// time; per replica, the time to listen and to load the whole schedule, and the heap the
// schedule takes; Vault reads and writes per second per replica at idle (BENCH_IDLE_SECONDS,
// 20); and the refreshes per second the fleet sustains when BENCH_DUE (2000) credentials of the
// rotating test provider come due at once, with the Vault writes per refresh and a check that
// each was refreshed once. BENCH_SEED_CONCURRENCY (64): KV writes in flight while seeding.
// Progress (seed, each replica's load) goes to stderr every 15 s; a throw, Ctrl-C or SIGTERM
// stops every Keygate and the Vault it started.
import { performance } from 'node:perf_hooks';
import { parseConfig } from '../src/config/load.ts';
import { startKeygate, type Keygate } from '../src/keygate.ts';
import { createLogger } from '../src/observability/logger.ts';
import type { VaultTarget } from '../src/vault/dev-server.ts';
import { startOAuthProvider } from '../test/support/oauth-provider.ts';
import { startRaftCluster } from '../test/support/raft-cluster.ts';
import { providerIntegration } from '../test/support/refresh.ts';
import {
  isStorageWrite,
  isTransit,
  startVaultRecorder,
  type VaultCall,
  type VaultRecorder,
} from '../test/support/vault-recorder.ts';
import { seedCredentials } from './support/seed-credentials.ts';
import { benchVault } from './support/vault.ts';

const N = Number(process.env['BENCH_CREDENTIALS'] ?? 100_000);
const DUE = Number(process.env['BENCH_DUE'] ?? 2000);
const REPLICAS = Number(process.env['BENCH_REPLICAS'] ?? 3);
const IDLE_SECONDS = Number(process.env['BENCH_IDLE_SECONDS'] ?? 20);
const CONCURRENCY = Number(process.env['BENCH_CONCURRENCY'] ?? 8);
const SEED_CONCURRENCY = Number(process.env['BENCH_SEED_CONCURRENCY'] ?? 64);
const PREFIX = process.env['BENCH_PREFIX'] ?? `bench-schedule-${N}`;
const ADMIN = 'admin-token-bench-schedule-0123456789';
const gc = (globalThis as { gc?: () => void }).gc ?? (() => {});

// Everything started is stopped on the way out (a throw, Ctrl-C, SIGTERM): no OpenBao is left
// running. Stops run last-started first.
const stops: Array<() => Promise<unknown>> = [];
let stopping: Promise<void> | undefined;
function stopAll(): Promise<void> {
  stopping ??= (async () => {
    for (const stop of stops.splice(0).reverse()) await stop().catch(() => {});
  })();
  return stopping;
}
for (const [signal, code] of [
  ['SIGINT', 130],
  ['SIGTERM', 143],
] as const) {
  process.once(signal, () => {
    console.error(`${signal}: stopping the Keygates and Vault`);
    void stopAll().finally(() => process.exit(code));
  });
}

try {
  console.log(JSON.stringify(await run(), null, 2));
} catch (err) {
  console.error(err);
  process.exitCode = 1;
} finally {
  await stopAll();
}
// Keep-alive sockets and a listing still under way must not hold the process.
process.exit();

async function run(): Promise<Record<string, unknown>> {
  let target: VaultTarget;
  let vaultKind: string;
  if (process.env['BENCH_VAULT'] === 'raft') {
    const started = performance.now();
    const cluster = await startRaftCluster();
    stops.push(() => cluster.stop());
    const active = await cluster.waitForActive();
    target = { address: active.address, token: cluster.token };
    vaultKind = `three-node OpenBao Raft cluster (formed in ${((performance.now() - started) / 1000).toFixed(1)} s), Keygate on the active node`;
  } else {
    const bench = await benchVault();
    stops.push(bench.stop);
    target = bench.target;
    vaultKind = process.env['VAULT_ADDR']
      ? `the Vault at ${process.env['VAULT_ADDR']}`
      : 'OpenBao dev server (in memory)';
  }
  const results: Record<string, unknown> = { vault: vaultKind, credentials: N, replicas: REPLICAS };

  const seed = await seedCredentials({
    target,
    prefix: PREFIX,
    integration: 'crm',
    count: N,
    perTenant: 100,
    concurrency: SEED_CONCURRENCY,
  });
  results['seed'] = seed.reused
    ? 'reused (already in Vault)'
    : `${seed.seconds.toFixed(1)} s (${Math.round(N / seed.seconds)} credentials/s)`;

  const provider = await startOAuthProvider({ expiresIn: 3600 });
  stops.push(() => provider.stop());
  const yaml = `server: { host: 127.0.0.1, port: 0 }
vault: { prefix: ${PREFIX}, timeoutMs: 10000 }
admin: { token: ${ADMIN} }
refresh: { concurrency: ${CONCURRENCY} }
log: { level: warn }
integrations:
${providerIntegration('crm', provider)}`;
  // Keygate's warnings (a listing that failed and is retried, a poll that failed) go to stderr.
  const logger = createLogger({ level: 'warn', stream: process.stderr });
  const replicas: Keygate[] = [];
  const recorders: VaultRecorder[] = [];
  const starts: Array<Record<string, number>> = [];

  async function until(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!ok()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  for (let i = 0; i < REPLICAS; i += 1) {
    const recorder = await startVaultRecorder(target.address);
    stops.push(() => recorder.stop());
    recorders.push(recorder);
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    const t0 = performance.now();
    const config = parseConfig(yaml, { VAULT_ADDR: recorder.address, VAULT_TOKEN: target.token });
    const keygate = await startKeygate(config, logger);
    stops.push(() => keygate.close());
    const listening = performance.now() - t0;
    replicas.push(keygate);
    // Progress on stderr, so a load that does not finish still shows its rate.
    const progress = setInterval(() => {
      const s = (performance.now() - t0) / 1000;
      const reads = recorder.calls.length;
      console.error(`replica ${i}: ${s.toFixed(0)} s, ${reads} Vault requests (${(reads / s).toFixed(0)}/s)`);
    }, 15_000);
    try {
      await until('the schedule to load', () => keygate.refresh.scheduler.size >= N, 30 * 60_000);
    } finally {
      clearInterval(progress);
    }
    const loaded = performance.now() - t0;
    const loadReads = recorder.calls.filter((c) => c.method === 'GET' || c.method === 'LIST').length;
    gc();
    starts.push({
      'listening, ms': Math.round(listening),
      'schedule loaded, s': Number((loaded / 1000).toFixed(1)),
      'Vault reads to load': loadReads,
      'Vault reads/s while loading': Math.round(loadReads / (loaded / 1000)),
      // Only meaningful for the first replica: later ones share the heap with the first.
      'heap growth, MB': Number(((process.memoryUsage().heapUsed - heapBefore) / 1e6).toFixed(1)),
    });
  }
  results['start (per replica, one after another)'] = starts;

  await until(
    'the replicas to see each other',
    () => replicas.every((k) => k.fleet?.members?.live().length === REPLICAS),
    60_000,
  );
  await new Promise((r) => setTimeout(r, 2000));

  const split = (calls: VaultCall[], seconds: number) => ({
    'reads/s': Number(
      (calls.filter((c) => c.method === 'GET' || c.method === 'LIST').length / seconds).toFixed(2),
    ),
    'storage writes/s': Number((calls.filter(isStorageWrite).length / seconds).toFixed(2)),
    'transit/s': Number((calls.filter(isTransit).length / seconds).toFixed(2)),
  });
  const marks = recorders.map((r) => r.calls.length);
  await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000));
  results[`idle Vault load per replica (${IDLE_SECONDS} s)`] = recorders.map((r, i) =>
    split(r.since(marks[i] as number), IDLE_SECONDS),
  );

  // BENCH_DUE credentials of the rotating provider, stored through replica 0 (the others follow the
  // changes record), all due at one instant far enough ahead for the stores to finish.
  const lead = Math.max(20_000, DUE * 15);
  const dueAt = Date.now() + lead;
  const dueTenants = Array.from({ length: DUE }, (_, i) => `due-${String(i).padStart(5, '0')}`);
  const storeStarted = performance.now();
  const first = replicas[0] as Keygate;
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < dueTenants.length) {
        const tenant = dueTenants[next++] as string;
        const res = await fetch(`${first.url}/v1/tenants/${tenant}/credentials/crm`, {
          method: 'PUT',
          headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            ...provider.issue(tenant),
            expiresAt: new Date(dueAt + 300_000).toISOString(),
          }),
        });
        if (res.status !== 200) throw new Error(`PUT ${tenant}: HTTP ${res.status}`);
      }
    }),
  );
  results['due credentials stored through one replica'] =
    `${DUE} in ${((performance.now() - storeStarted) / 1000).toFixed(1)} s`;
  const beforeRefresh = recorders.map((r) => r.calls.length);
  const invalidBefore = provider.counts.invalidGrant;
  await until(
    'every due credential to be refreshed',
    () => dueTenants.every((t) => provider.refreshTimes(t).length >= 1),
    30 * 60_000,
  );
  // The other replicas look at each due credential after their grace (rank × shardGraceSeconds).
  await until(
    'the other replicas to look at every due credential',
    () =>
      replicas.reduce(
        (n, k) =>
          n + k.refresh.scheduler.shardCounts.checkedFresh + k.refresh.scheduler.shardCounts.takenOver,
        0,
      ) >=
      (REPLICAS - 1) * DUE,
    10 * 60_000,
  );
  const times = dueTenants.flatMap((t) => provider.refreshTimes(t));
  const span = (Math.max(...times) - Math.min(...times)) / 1000;
  const window = recorders.map((r, i) => r.since(beforeRefresh[i] as number));
  const all = window.flat();
  const shard = replicas.map((k) => ({ ...k.refresh.scheduler.shardCounts }));
  results['refreshes'] = {
    'fleet refreshes/s (first to last provider grant)': Number((DUE / Math.max(span, 0.001)).toFixed(1)),
    'span, s': Number(span.toFixed(1)),
    'refreshed more than once': dueTenants.filter((t) => provider.refreshTimes(t).length > 1).length,
    invalid_grant: provider.counts.invalidGrant - invalidBefore,
    'Vault storage writes per refresh (lease + credential, fleet-wide)': Number(
      (all.filter((c) => isStorageWrite(c) && /\/(leases|credentials)\//.test(c.path)).length / DUE).toFixed(
        2,
      ),
    ),
    'Vault reads per refresh (fleet-wide, shard checks included)': Number(
      (
        all.filter(
          (c) => (c.method === 'GET' || c.method === 'LIST') && /\/(leases|credentials)\//.test(c.path),
        ).length / DUE
      ).toFixed(2),
    ),
    'Transit calls per refresh': Number((all.filter(isTransit).length / DUE).toFixed(2)),
    'shard decisions per replica': shard,
  };

  return results;
}
