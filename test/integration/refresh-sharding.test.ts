import { afterEach, beforeAll, afterAll, describe, expect, inject, it } from 'vitest';
import { credentialRef, refKey } from '../../src/credentials/ref.ts';
import type { RefreshEvent } from '../../src/refresh/events.ts';
import { rendezvousOrder } from '../../src/refresh/shard.ts';
import { jsonFetch } from '../support/http.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { providerIntegration } from '../support/refresh.ts';
import { makeStore, uniqueTenant, type TestStore } from '../support/store.ts';
import { isStorageWrite, startVaultRecorder, type VaultRecorder } from '../support/vault-recorder.ts';
import { waitFor } from '../support/wait.ts';

// Three Keygates in this process on one OpenBao and one KV prefix, sharding due refreshes
// by the `replicas` heartbeat record; a provider that revokes a family on refresh-token reuse.
const vault = inject('vault');
const ADMIN = 'admin-token-refresh-sharding-0123456789';

describe('due refreshes sharded across live replicas', () => {
  let provider: OAuthProvider;
  const running: TestKeygate[] = [];
  const stores: TestStore[] = [];
  let recorder: VaultRecorder | undefined;

  beforeAll(async () => {
    provider = await startOAuthProvider({ expiresIn: 3600 });
  });
  afterEach(async () => {
    await Promise.all(running.splice(0).map((k) => k.close()));
    for (const s of stores.splice(0)) s.close();
    await recorder?.stop();
    recorder = undefined;
  });
  afterAll(async () => {
    await provider?.stop();
  });

  const yaml = (prefix: string, fleet: string, refresh = '') => `vault: { prefix: ${prefix} }
admin: { token: ${ADMIN} }
refresh: { bufferSeconds: 300, clockSkewSeconds: 0, leaseSeconds: 10, tokenTimeoutMs: 2000, minBackoffMs: 20${refresh} }
fleet: { pollSeconds: 0.2, ${fleet} }
integrations:
${providerIntegration('crm', provider)}`;

  const newPrefix = () => `kgtest-${Math.random().toString(36).slice(2, 8)}`;

  // Credentials stored through one replica (the others follow the changes record), due in `dueInSeconds`.
  async function seed(through: TestKeygate, label: string, count: number, dueInSeconds: number) {
    const base = uniqueTenant(label);
    const tenants = Array.from({ length: count }, (_, i) => `${base}-${i}`);
    for (const tenant of tenants) {
      const pair = provider.issue(tenant);
      const put = await jsonFetch(
        `${through.url}/v1/tenants/${tenant}/credentials/crm`,
        'PUT',
        { ...pair, expiresIn: 300 + dueInSeconds },
        ADMIN,
      );
      expect(put.status).toBe(200);
    }
    return tenants;
  }

  // Credentials stored before any replica starts (found by the start-up listing).
  async function seedInVault(prefix: string, label: string, count: number) {
    const t = await makeStore(vault, `vault: { prefix: ${prefix} }`);
    stores.push(t);
    const base = uniqueTenant(label);
    const tenants = Array.from({ length: count }, (_, i) => `${base}-${i}`);
    for (const tenant of tenants) {
      await t.store.put(credentialRef(tenant, 'crm'), {
        authType: 'oauth2',
        secret: provider.issue(tenant),
        expiresAt: new Date(Date.now() + 3_600_000).toISOString(),
      });
    }
    return tenants;
  }

  async function startReplicas(n: number, config: string, address = vault.address) {
    const started = await Promise.all(
      Array.from({ length: n }, () =>
        startTestKeygate(config, { VAULT_ADDR: address, VAULT_TOKEN: vault.token }),
      ),
    );
    running.push(...started);
    await waitFor(
      `${n} replicas to see each other`,
      () => started.every((k) => k.fleet?.members?.live().length === n),
      { timeoutMs: 20_000 },
    );
    return started;
  }

  const successesOf = (k: TestKeygate) => {
    const seen: string[] = [];
    k.refresh.scheduler.on('refresh-success', (e: RefreshEvent) => seen.push(e.tenant));
    return seen;
  };

  it('three replicas: each due credential is refreshed once, by its owner; the others only look', async () => {
    const replicas = await startReplicas(3, yaml(newPrefix(), 'heartbeatSeconds: 1, shardGraceSeconds: 8'));
    const done = replicas.map(successesOf);
    const tenants = await seed(replicas[0] as TestKeygate, 'shard', 30, 3);
    await waitFor(
      'every credential to be refreshed',
      () => tenants.every((t) => provider.refreshTimes(t).length >= 1),
      {
        timeoutMs: 30_000,
      },
    );
    await waitFor('every refresh to be reported', () => done.flat().length >= tenants.length, {
      timeoutMs: 10_000,
    });
    // The others' deferred look happens after the grace: wait for every one to have looked.
    // The others look at each credential after their grace (8 s: an owner is not that late here).
    const looked = () =>
      replicas.reduce(
        (n, k) =>
          n + k.refresh.scheduler.shardCounts.checkedFresh + k.refresh.scheduler.shardCounts.takenOver,
        0,
      );
    await waitFor('the non-owners to look at each credential', () => looked() >= 2 * tenants.length, {
      timeoutMs: 60_000,
    });
    expect(provider.counts.invalidGrant).toBe(0);
    for (const t of tenants) expect(provider.refreshTimes(t)).toHaveLength(1);
    const members = replicas.map((k) => k.fleet?.members?.self as string);
    for (const [i, k] of replicas.entries()) {
      const owned = tenants.filter(
        (t) => rendezvousOrder(refKey(credentialRef(t, 'crm')), members)[0] === members[i],
      );
      expect(owned.length).toBeGreaterThan(0);
      expect(done[i]?.sort()).toEqual(owned.sort());
      expect(k.refresh.scheduler.shardCounts).toMatchObject({ owned: owned.length, takenOver: 0 });
    }
  });

  it('an owner that left: the next replica refreshes its credentials at once, not after the grace', async () => {
    // A grace far longer than the test: only the membership change can hand the credentials on.
    const replicas = await startReplicas(3, yaml(newPrefix(), 'heartbeatSeconds: 1, shardGraceSeconds: 600'));
    const gone = replicas[0] as TestKeygate;
    const tenants = await seed(replicas[1] as TestKeygate, 'left', 12, 2);
    const members = replicas.map((k) => k.fleet?.members?.self as string);
    const orphans = tenants.filter(
      (t) => rendezvousOrder(refKey(credentialRef(t, 'crm')), members)[0] === members[0],
    );
    expect(orphans.length).toBeGreaterThan(0);
    await gone.close();
    running.splice(running.indexOf(gone), 1);
    await waitFor(
      'the orphans to be refreshed by the others',
      () => orphans.every((t) => provider.refreshTimes(t).length >= 1),
      {
        timeoutMs: 30_000,
      },
    );
    await waitFor('the rest too', () => tenants.every((t) => provider.refreshTimes(t).length >= 1), {
      timeoutMs: 30_000,
    });
    expect(provider.counts.invalidGrant).toBe(0);
    for (const t of tenants) expect(provider.refreshTimes(t)).toHaveLength(1);
  });

  it('an owner alive but late (its scheduler stopped): another takes over after the grace, once, under the lease', async () => {
    const replicas = await startReplicas(2, yaml(newPrefix(), 'heartbeatSeconds: 1, shardGraceSeconds: 1'));
    const [late, other] = replicas as [TestKeygate, TestKeygate];
    late.refresh.scheduler.stop(); // its heartbeat goes on: it looks alive
    const tenants = await seed(other, 'late', 10, 1);
    const members = replicas.map((k) => k.fleet?.members?.self as string);
    const lateOwns = tenants.filter(
      (t) => rendezvousOrder(refKey(credentialRef(t, 'crm')), members)[0] === members[0],
    );
    expect(lateOwns.length).toBeGreaterThan(0);
    await waitFor(
      'every credential to be refreshed',
      () => tenants.every((t) => provider.refreshTimes(t).length >= 1),
      {
        timeoutMs: 30_000,
      },
    );
    expect(other.refresh.scheduler.shardCounts.takenOver).toBe(lateOwns.length);
    expect(provider.counts.invalidGrant).toBe(0);
    for (const t of tenants) expect(provider.refreshTimes(t)).toHaveLength(1);
  });

  it('steady state is incremental: idle, a replica reads only the changes and replicas records; a change costs reads of that record only', async () => {
    const prefix = newPrefix();
    const tenants = await seedInVault(prefix, 'idle', 5);
    recorder = await startVaultRecorder(vault.address);
    // resyncSeconds 1 would re-list every second without the fleet poll; with it, only fullResyncSeconds counts.
    const config = yaml(prefix, 'heartbeatSeconds: 0.5, fullResyncSeconds: 0', ', resyncSeconds: 1');
    const [watched] = await startReplicas(1, config, recorder.address);
    await waitFor('the schedule to be loaded', () => watched?.refresh.scheduler.size === tenants.length, {
      timeoutMs: 20_000,
    });
    const writer = await startTestKeygate(config, { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token });
    running.push(writer);
    const w = watched as TestKeygate;
    const polls = () => w.fleet?.counts.polls ?? 0;
    await waitFor('the start-up listing and first polls', () => polls() >= 3, { timeoutMs: 20_000 });
    const from = recorder.calls.length;
    const p0 = polls();
    await waitFor('ten more polls', () => polls() >= p0 + 10, { timeoutMs: 30_000 });
    const idle = recorder.since(from);
    const paths = new Set(idle.map((c) => `${c.method} ${c.path.replace(`/${prefix}/`, '/<prefix>/')}`));
    expect([...paths].sort()).toEqual(
      expect.arrayContaining(['GET secret/data/<prefix>/changes', 'GET secret/data/<prefix>/replicas']),
    );
    for (const p of paths)
      expect(p).toMatch(
        /^(GET secret\/data\/<prefix>\/(changes|replicas)|POST secret\/data\/<prefix>\/replicas)$/,
      );
    expect(idle.filter(isStorageWrite).every((c) => c.path.endsWith('/replicas'))).toBe(true);

    // A credential stored through the other replica: the watched one reads that record, nothing more.
    const tenant = tenants[0] as string;
    const before = recorder.calls.length;
    const put = await jsonFetch(
      `${writer.url}/v1/tenants/${tenant}/credentials/crm`,
      'PUT',
      {
        accessToken: 'at-new',
        refreshToken: 'rt-new',
        expiresIn: 7200,
      },
      ADMIN,
    );
    expect(put.status).toBe(200);
    const credentialReads = () => recorder!.since(before, (c) => c.path.includes(`/${prefix}/credentials/`));
    await waitFor(
      'the watched replica to follow the change',
      () => {
        const due = w.refresh.scheduler.dueAt(credentialRef(tenant, 'crm'));
        return due !== undefined && due > Date.now() + 3_600_000;
      },
      { timeoutMs: 10_000 },
    );
    // That credential's record only (read back by the schedule and by the fleet inventory), never a listing.
    const reads = credentialReads();
    expect(reads.length).toBeGreaterThan(0);
    expect(reads.length).toBeLessThanOrEqual(2);
    for (const c of reads)
      expect(c).toEqual({
        method: 'GET',
        path: expect.stringMatching(new RegExp(`/credentials/${tenant}/crm$`)),
      });
    expect(recorder.since(before, (c) => c.method === 'LIST')).toEqual([]);
  });
});
