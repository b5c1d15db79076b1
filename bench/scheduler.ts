// The refresh schedule at scale: heap used, time to schedule, active timers.
//   npm run bench:scheduler [-- counts...]   (default: 100000 1000000)
// Each count runs in a child process of its own so one size's garbage never skews another's.
// Expiries spread from 1 hour to 90 days (a third beyond setTimeout's 24.8-day limit), given as
// ISO strings as the start-up listing gives them. No Vault: the listing source is in memory.
import { spawnSync } from 'node:child_process';
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { crmConfig } from '../test/support/crm-config.ts';
import type { CredentialListing } from '../src/credentials/types.ts';
import { createLogger } from '../src/observability/logger.ts';
import { RefreshScheduler } from '../src/refresh/scheduler.ts';
import { credentialRef } from '../src/credentials/ref.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

if (process.argv[2] === '--child') {
  await measure(Number(process.argv[3]));
} else {
  const counts = process.argv.slice(2).map(Number);
  for (const n of counts.length > 0 ? counts : [100_000, 1_000_000]) {
    const child = spawnSync(
      process.execPath,
      ['--expose-gc', '--max-old-space-size=4096', import.meta.filename, '--child', String(n)],
      { stdio: 'inherit' },
    );
    if (child.status !== 0) process.exit(child.status ?? 1);
  }
}

async function measure(n: number): Promise<void> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('run with node --expose-gc');
  const config = crmConfig();
  const live = countTimers();
  gc();
  const baseline = process.memoryUsage().heapUsed;
  const now = Date.now();
  let listings: CredentialListing[] | undefined = Array.from({ length: n }, (_, i) => ({
    tenant: `tenant-${i}`,
    integration: 'crm',
    account: 'default',
    authType: 'oauth2' as const,
    status: 'active' as const,
    expiresAt: new Date(now + HOUR + ((i * 7919) % 90) * DAY + (i % 3600) * 1000).toISOString(),
    version: 1,
  }));
  const refresher = Object.assign(new EventEmitter(), {
    refresh: async (): Promise<never> => {
      throw new Error('no refresh is due during the benchmark');
    },
  });
  const scheduler = new RefreshScheduler({
    refresher,
    source: { listAll: async () => listings ?? [] },
    config,
    logger: createLogger({ silent: true }),
  });
  const started = performance.now();
  await scheduler.start();
  const scheduleMs = performance.now() - started;
  listings = undefined; // what remains is the schedule itself
  gc();
  const heapMb = (process.memoryUsage().heapUsed - baseline) / 2 ** 20;

  // Reschedule and cancel cost at this size (O(log n) each).
  const ops = 10_000;
  const t0 = performance.now();
  for (let i = 0; i < ops; i += 1) {
    scheduler.track({
      tenant: `tenant-${(i * 104729) % n}`,
      integration: 'crm',
      account: 'default',
      authType: 'oauth2',
      status: 'active',
      expiresAt: new Date(now + 2 * HOUR + i * 1000).toISOString(),
    });
  }
  const rescheduleUs = ((performance.now() - t0) * 1000) / ops;
  const scheduled = scheduler.size;
  const t1 = performance.now();
  for (let i = 0; i < ops; i += 1) scheduler.cancel(credentialRef(`tenant-${(i * 15485863) % n}`, 'crm'));
  const cancelUs = ((performance.now() - t1) * 1000) / ops;

  console.log(
    JSON.stringify({
      credentials: n,
      scheduled,
      scheduleMs: Math.round(scheduleMs),
      heapUsedMb: Number(heapMb.toFixed(1)),
      bytesPerCredential: Math.round((heapMb * 2 ** 20) / n),
      activeTimers: scheduler.activeTimers,
      liveTimeouts: live.size, // every setTimeout in the process not yet fired or cleared
      rescheduleUs: Number(rescheduleUs.toFixed(2)),
      cancelUs: Number(cancelUs.toFixed(2)),
    }),
  );
  scheduler.stop();
}

// Counts the process's pending timeouts by wrapping setTimeout/clearTimeout (the schedule's
// own timer is unref'd, so Node's active-resource list does not show it).
function countTimers(): Set<unknown> {
  const live = new Set<unknown>();
  const { setTimeout: set, clearTimeout: clear } = globalThis;
  globalThis.setTimeout = ((fn: (...args: unknown[]) => void, ms?: number, ...args: unknown[]) => {
    const timer: unknown = set(
      (...a: unknown[]) => {
        live.delete(timer);
        fn(...a);
      },
      ms,
      ...args,
    );
    live.add(timer);
    return timer;
  }) as typeof globalThis.setTimeout;
  globalThis.clearTimeout = ((timer: Parameters<typeof clear>[0]) => {
    live.delete(timer);
    clear(timer);
  }) as typeof globalThis.clearTimeout;
  return live;
}
