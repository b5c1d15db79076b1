import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startRaftCluster, type RaftCluster, type RaftNode } from '../support/raft-cluster.ts';
import { providerIntegration, recordEvents } from '../support/refresh.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

// Slow (a three-node OpenBao Raft cluster of its own, ~30 s on a quiet machine): the one
// file that starts a cluster. Keygate is given the three addresses; under steady proxy
// load the active node is SIGKILLed at the moment a refresh has been granted by the
// provider and not yet written to Vault, with more refreshes coming due during the election.
const ADMIN = 'admin-token-leader-change-0123456789';
const CACHED = 4;
const DUE = 8;
const LOAD_WORKERS = 4;

describe('the Vault leader changes under load (three-node Raft cluster)', () => {
  let cluster: RaftCluster;
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let keygate: TestKeygate;
  let second: TestKeygate | undefined;
  // Shared with the second test: the node killed, a cached tenant, the caller key.
  let victim: RaftNode | undefined;
  let cachedTenant = '';
  let callerKey = '';
  const yamlFor = (addresses: string[]) => `
vault:
  addresses: [${addresses.join(', ')}]
  timeoutMs: 1000
  # Shorter than any election measured here (3.6-5.6 s): the refresh granted at the kill cannot
  # reach Vault within its retries and is written late, the path this test is about.
  retryBudgetMs: 1000
cache: { ttlSeconds: 600 }
proxy: { keyCacheTtlSeconds: 600 }
refresh: { bufferSeconds: 2, clockSkewSeconds: 0, leaseSeconds: 3, tokenTimeoutMs: 1000, retryFailedAfterSeconds: 1, minBackoffMs: 50 }
integrations:
${providerIntegration('crm', provider)}`;

  beforeAll(async () => {
    [cluster, provider, upstream] = await Promise.all([
      startRaftCluster(),
      startOAuthProvider({ expiresIn: 3600 }),
      startUpstream((req, res) => {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
        res.writeHead(provider.isValidAccessToken(token) ? 200 : 401, { 'content-type': 'application/json' });
        res.end('{}');
      }),
    ]);
    keygate = await startTestKeygate(yamlFor(cluster.addresses), {
      VAULT_TOKEN: cluster.token,
      KEYGATE_ADMIN_TOKEN: ADMIN,
    });
  }, 120_000);
  afterAll(async () => {
    await Promise.all([keygate?.close(), second?.close()]);
    await Promise.all([cluster?.stop(), upstream?.stop(), provider?.stop()]);
  }, 60_000);

  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${keygate.url}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  const readyz = async () => {
    const res = await fetch(`${keygate.url}/readyz`);
    return { status: res.status, body: (await res.json()) as { reason?: string } };
  };

  it('cached credentials keep serving, /readyz follows the election, due refreshes complete once each', async () => {
    const base = uniqueTenant('leader');
    const created = await admin('POST', '/v1/keys', { tenants: ['*'] });
    expect(created.status).toBe(201);
    const { key } = (await created.json()) as { key: string };
    callerKey = key;

    // Cached credentials: stored, then proxied once so they (and the key) are in memory.
    const cached = Array.from({ length: CACHED }, (_, i) => `${base}-c${i}`);
    for (const tenant of cached) {
      const pair = provider.issue(tenant);
      const put = await admin('PUT', `/v1/tenants/${tenant}/credentials/crm`, { ...pair, expiresIn: 3600 });
      expect(put.status).toBe(200);
    }
    const proxy = (tenant: string) =>
      fetch(`${keygate.url}/proxy/${tenant}/crm/api/ping`, { headers: { authorization: `Bearer ${key}` } });
    for (const tenant of cached) expect((await proxy(tenant)).status).toBe(200);
    cachedTenant = cached[0] as string;
    expect((await readyz()).status).toBe(200);

    // Steady load on the cached credentials until the end of the test.
    const load = { total: 0, failed: [] as string[], stop: false };
    const workers = Array.from({ length: LOAD_WORKERS }, async (_, w) => {
      for (let n = w; !load.stop; n += 1) {
        const tenant = cached[n % CACHED] as string;
        const res = await proxy(tenant).catch((err: unknown) => err as Error);
        load.total += 1;
        if (res instanceof Error) load.failed.push(`${tenant}: ${res.message}`);
        else {
          if (res.status !== 200)
            load.failed.push(`${tenant}: ${res.status} ${res.headers.get('x-keygate-error')}`);
          await res.body?.cancel();
        }
      }
    });

    // /readyz polled throughout, every answer kept with its time.
    const ready: { at: number; status: number; reason?: string | undefined }[] = [];
    let polling = true;
    const poller = (async () => {
      while (polling) {
        const r = await readyz().catch(() => ({ status: 0, body: { reason: 'keygate_unreachable' } }));
        ready.push({ at: Date.now(), status: r.status, reason: r.body.reason });
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    })();

    // Due refreshes: half come due together (the first one granted kills the leader before
    // its answer reaches Keygate), half 500 ms later, inside the election.
    const events = recordEvents(keygate.refresh.scheduler);
    const due = Array.from({ length: DUE }, (_, i) => `${base}-d${i}`);
    const invalidBefore = provider.counts.invalidGrant;
    const firstDueAt = Date.now() + 5000;
    const dueAt = new Map(due.map((tenant, i) => [tenant, firstDueAt + (i % 2) * 500]));
    let killedAt = 0;
    let killing: Promise<void> | undefined;
    provider.beforeAnswer = (family) => {
      if (!dueAt.has(family)) return;
      killing ??= (async () => {
        victim = await cluster.active();
        if (!victim) throw new Error('no active node to kill');
        killedAt = Date.now();
        await victim.kill();
      })();
      return killing;
    };
    for (const tenant of due) {
      const pair = provider.issue(tenant);
      const expiresAt = new Date((dueAt.get(tenant) as number) + 2000).toISOString(); // bufferSeconds: 2
      const put = await admin('PUT', `/v1/tenants/${tenant}/credentials/crm`, { ...pair, expiresAt });
      expect(put.status).toBe(200);
    }
    expect(Date.now()).toBeLessThan(firstDueAt); // every due credential was stored before the kill

    await waitFor('the leader to be killed by the first granted refresh', () => killedAt > 0, {
      timeoutMs: 20_000,
    });
    const next = await cluster.waitForActive({ exclude: victim as RaftNode, timeoutMs: 60_000 });
    const electedAt = Date.now();
    // The second half came due while there was no leader (else this test tested less).
    expect(firstDueAt + 500).toBeLessThan(electedAt);

    await waitFor(
      '/readyz to report the outage',
      () => ready.some((r) => r.at > killedAt && r.status === 503),
      {
        timeoutMs: 30_000,
      },
    );
    await waitFor(
      '/readyz to recover after the election',
      () => ready.some((r) => r.at > electedAt && r.status === 200),
      { timeoutMs: 30_000, intervalMs: 100 },
    );

    // Every due refresh completed once, and Vault holds the provider's live pair.
    await waitFor(
      'every due credential to be refreshed',
      () => due.every((t) => provider.refreshTimes(t).length >= 1),
      {
        timeoutMs: 60_000,
        intervalMs: 200,
      },
    );
    await waitFor(
      'Vault to hold every live pair',
      async () => {
        for (const tenant of due) {
          const stored = await keygate.store.read(credentialRef(tenant, 'crm'));
          if (stored.secret.refreshToken !== provider.current(tenant)?.refreshToken) return false;
        }
        return keygate.refresher.unpersisted === 0;
      },
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    // A few more seconds of load on the new leader, then stop.
    const after = load.total;
    await waitFor('more load after recovery', () => load.total > after + 50, { timeoutMs: 30_000 });
    load.stop = true;
    polling = false;
    await Promise.all([...workers, poller]);

    expect(load.failed).toEqual([]);
    expect(provider.counts.invalidGrant - invalidBefore).toBe(0);
    for (const tenant of due) {
      expect(provider.isRevoked(tenant)).toBe(false);
      expect(provider.refreshTimes(tenant)).toHaveLength(1);
    }
    const outage = ready.filter((r) => r.at > killedAt && r.status !== 200);
    expect(outage.every((r) => r.status === 503)).toBe(true);
    expect(outage.some((r) => r.reason === 'vault_no_active_node')).toBe(true);
    const recoveredAt = ready.find((r) => r.at > electedAt && r.status === 200)?.at ?? 0;
    const count = (name: string) =>
      events.filter((e) => e.name === name && String(e.tenant).startsWith(base)).length;
    const logged = (event: string) => keygate.lines.filter((l) => l.includes(`"event":"${event}"`)).length;
    // The refresh granted at the kill could not be written then: it was served from memory
    // and written once the new leader was up (else this test tested less).
    expect(logged('refresh_persisted_late')).toBeGreaterThanOrEqual(1);
    console.info(
      `vault leader change: election gap ${electedAt - killedAt} ms (kill -> ${next.name} active), ` +
        `/readyz not ready ${outage.length} polls (${[...new Set(outage.map((r) => r.reason))].join(', ')}), ` +
        `ready again ${recoveredAt - killedAt} ms after the kill; ` +
        `proxied ${load.total}, failed ${load.failed.length}; ` +
        `due refreshes ${DUE}: refresh-success ${count('refresh-success')}, transient refresh-failed ${count('refresh-failed')}, ` +
        `refresh-retry ${count('refresh-retry')}; invalid_grant ${provider.counts.invalidGrant - invalidBefore}; ` +
        `granted during the election and written late ${logged('refresh_persisted_late')}; ` +
        `failovers logged ${logged('vault_failover')}`,
    );
  }, 180_000);

  it('the killed node restarts and rejoins; a Keygate given it first finds the active node', async () => {
    expect(victim).toBeDefined();
    const node = victim as RaftNode;
    await node.restart();
    await cluster.waitForVoters(3);
    const active = await cluster.waitForActive();
    expect(active).not.toBe(node); // it came back as a standby
    // The standby first in the list: Keygate must not settle there (its reads may lag).
    const others = cluster.addresses.filter((a) => a !== node.address);
    second = await startTestKeygate(yamlFor([node.address, ...others]), {
      VAULT_TOKEN: cluster.token,
      KEYGATE_ADMIN_TOKEN: ADMIN,
    });
    const ready = await fetch(`${second.url}/readyz`);
    expect(ready.status).toBe(200);
    // A cold read (key and credential) through the new Keygate, from the active node.
    const res = await fetch(`${second.url}/proxy/${cachedTenant}/crm/api/ping`, {
      headers: { authorization: `Bearer ${callerKey}` },
    });
    expect(res.status).toBe(200);
    const moved = second.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e['event'] === 'vault_failover');
    expect(moved).toEqual([expect.objectContaining({ from: node.address, to: active.address })]);
  }, 120_000);
});
