import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import { spawnKeygate, type KeygateProcess } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { providerIntegration } from '../support/refresh.ts';
import { makeStore, uniqueTenant, type TestStore } from '../support/store.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { waitFor } from '../support/wait.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

// Real `keygate serve` processes on the shared OpenBao, each under a KV prefix of its own
// test, racing over the same credentials with a provider that revokes on reuse.
const vault = inject('vault');
const root = vaultAdmin(vault);
const EXPIRES_IN = 5; // seconds; with bufferSeconds 2 a cycle is 3 s

function processYaml(prefix: string, provider: OAuthProvider): string {
  return `server: { host: 127.0.0.1, port: 0 }
vault: { prefix: ${prefix}, timeoutMs: 1000 }
# A token request that times out may have been spent at the provider: its retry is a reuse. Under
# a loaded machine 1 s was too short (invalid_grant seen); 4 s, with a lease that outlives it.
refresh: { bufferSeconds: 2, clockSkewSeconds: 0, leaseSeconds: 6, tokenTimeoutMs: 4000, retryFailedAfterSeconds: 1, minBackoffMs: 50 }
log: { level: info }
# Sharded: a replica gone is noticed after 3 heartbeats; another's due refresh is tried after 2 s.
fleet: { heartbeatSeconds: 1, shardGraceSeconds: 2 }
integrations:
${providerIntegration('crm', provider)}`;
}

const logLines = (p: KeygateProcess) =>
  p
    .stdout()
    .split('\n')
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
const eventsOf = (p: KeygateProcess, name: string) => logLines(p).filter((l) => l['event'] === name);

describe('refresh across Keygate processes', () => {
  let provider: OAuthProvider;
  const running: KeygateProcess[] = [];
  const stores: TestStore[] = [];

  beforeAll(async () => {
    provider = await startOAuthProvider({ expiresIn: EXPIRES_IN });
  });
  afterEach(async () => {
    for (const p of running.splice(0)) {
      p.kill('SIGKILL');
      await p.exit;
    }
    for (const s of stores.splice(0)) s.close();
  });
  afterAll(async () => {
    await provider?.stop();
  });

  async function setup(label: string, families: string[], dueInMs: number) {
    const prefix = `kgtest-${Math.random().toString(36).slice(2, 8)}`;
    const t = await makeStore(vault, `vault: { prefix: ${prefix} }`);
    stores.push(t);
    const base = uniqueTenant(label);
    for (const family of families) {
      await t.store.put(credentialRef(`${base}-${family}`, 'crm'), {
        authType: 'oauth2',
        secret: provider.issue(`${base}-${family}`),
        // bufferSeconds is 2: due `dueInMs` from now.
        expiresAt: new Date(Date.now() + dueInMs + 2000).toISOString(),
      });
    }
    const start = async () => {
      const p = spawnKeygate(processYaml(prefix, provider), {
        VAULT_ADDR: vault.address,
        VAULT_TOKEN: vault.token,
      });
      running.push(p);
      await waitFor(
        'the process to load its schedule',
        () => eventsOf(p, 'refresh_schedule_loaded').length > 0,
        {
          timeoutMs: 20_000,
        },
      );
      return p;
    };
    // What Vault holds for each family equals the provider's live pair: nothing was lost.
    const vaultMatchesProvider = async () => {
      for (const family of families) {
        const stored = await t.store.read(credentialRef(`${base}-${family}`, 'crm'));
        if (stored.secret.refreshToken !== provider.current(`${base}-${family}`)?.refreshToken) return false;
      }
      return true;
    };
    return { prefix, base, start, vaultMatchesProvider };
  }

  it('two processes, 50 credentials due at once: each refreshed exactly once per cycle, zero invalid_grant', async () => {
    const families = Array.from({ length: 50 }, (_, i) => `c${i}`);
    const { base, start, vaultMatchesProvider } = await setup('replicas', families, 5000);
    const invalidBefore = provider.counts.invalidGrant;
    const [a, b] = await Promise.all([start(), start()]);
    await waitFor(
      'two refresh cycles of every credential',
      () => families.every((f) => provider.refreshTimes(`${base}-${f}`).length >= 2),
      { timeoutMs: 30_000 },
    );
    await waitFor('Vault to hold every live pair', vaultMatchesProvider, { timeoutMs: 10_000 });

    expect(provider.counts.invalidGrant - invalidBefore).toBe(0);
    for (const f of families) {
      expect(provider.isRevoked(`${base}-${f}`)).toBe(false);
      const times = provider.refreshTimes(`${base}-${f}`);
      // A second refresh in the same cycle would come well before the next due time (3 s on).
      for (let i = 1; i < times.length; i += 1) {
        expect((times[i] as number) - (times[i - 1] as number)).toBeGreaterThan(2000);
      }
    }
    const successes = (p: KeygateProcess) =>
      eventsOf(p, 'refresh-success').filter((e) => String(e['tenant']).startsWith(base)).length;
    // Every refresh the provider granted was made (and logged) by one of the two. Refreshes
    // go on meanwhile, and a granted one is logged only after its Vault write: take the
    // provider's count now and wait for the logs to reach it.
    const total = families.reduce((n, f) => n + provider.refreshTimes(`${base}-${f}`).length, 0);
    await waitFor('every granted refresh to be logged', () => successes(a!) + successes(b!) >= total, {
      timeoutMs: 15_000,
    });
    expect(successes(a!)).toBeGreaterThan(0);
    expect(successes(b!)).toBeGreaterThan(0);
    for (const p of [a!, b!]) expect(eventsOf(p, 'refresh-failed')).toEqual([]);
    for (const token of provider.issuedTokens().filter((tok) => tok.includes(base))) {
      expect(a!.stdout() + a!.stderr() + b!.stdout() + b!.stderr()).not.toContain(token);
    }
  });

  it('the lease holder killed (SIGKILL) mid-request: the other takes over once the lease lapses', async () => {
    const { prefix, base, start, vaultMatchesProvider } = await setup('killed', ['one'], 4000);
    const family = `${base}-one`;
    const release = provider.hold();
    const requestsBefore = provider.counts.requests;
    const processes = await Promise.all([start(), start()]);
    await waitFor('a token request to reach the provider', () => provider.counts.requests > requestsBefore, {
      timeoutMs: 15_000,
    });
    const lease = await root('GET', `secret/data/${prefix}/leases/${family}/crm`);
    const { holder, expiresAt } = lease.body.data.data as { holder: string; expiresAt: number };
    const holderPid = Number(holder.split('/')[1]);
    const victim = processes.find((p) => p.pid === holderPid);
    const survivor = processes.find((p) => p.pid !== holderPid);
    expect(victim).toBeDefined();
    victim!.kill('SIGKILL');
    await victim!.exit;
    release();

    await waitFor('the survivor to refresh', () => eventsOf(survivor!, 'refresh-success').length > 0, {
      timeoutMs: 20_000,
    });
    expect(provider.counts.invalidGrant).toBe(0);
    expect(provider.refreshTimes(family)).toHaveLength(1);
    // Taken over only after the dead holder's lease lapsed.
    expect(provider.refreshTimes(family)[0]).toBeGreaterThanOrEqual(expiresAt);
    await waitFor('Vault to hold the live pair', vaultMatchesProvider);
  });

  it('killed just after the provider answered and the write landed: nothing is lost', async () => {
    const { prefix, base, start, vaultMatchesProvider } = await setup('landed', ['one'], 0);
    const family = `${base}-one`;
    const version = async () =>
      (await root('GET', `secret/metadata/${prefix}/credentials/${family}/crm`)).body.data
        .current_version as number;
    const initial = await version();
    const first = await start();
    await waitFor('the refreshed pair to land in Vault', async () => (await version()) > initial, {
      intervalMs: 5,
      timeoutMs: 15_000,
    });
    first.kill('SIGKILL');
    await first.exit;
    expect(provider.refreshTimes(family)).toHaveLength(1);
    await waitFor('Vault to hold the live pair', vaultMatchesProvider);

    const second = await start();
    await waitFor(
      'the next cycle, by the second process',
      () => eventsOf(second, 'refresh-success').length > 0,
      {
        timeoutMs: 20_000,
      },
    );
    expect(provider.refreshTimes(family)).toHaveLength(2);
    expect(provider.counts.invalidGrant).toBe(0);
    expect(provider.isRevoked(family)).toBe(false);
    await waitFor('Vault to hold the live pair', vaultMatchesProvider);
  });
});
