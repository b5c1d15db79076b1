import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jsonFetch } from '../support/http.ts';
import { spawnKeygate, type KeygateProcess } from '../support/keygate.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

// Three `keygate serve` processes on one Vault, with caches far longer than the test
// (10 minutes): only the fleet's changes record can make B and C stop using what A changed.
const vault = inject('vault');
const ADMIN = 'admin-token-fleet-agreement-0123456789';
const AGREE_WITHIN_MS = 5000;

describe('fast fleet agreement: three processes', () => {
  let upstream: FakeUpstream;
  const procs: KeygateProcess[] = [];
  const urls: string[] = [];
  const tenant = uniqueTenant('fleet');
  const prefix = `kgfleet-${Math.random().toString(36).slice(2, 8)}`;
  const admin = (method: string, path: string, body?: unknown) =>
    jsonFetch(`${urls[0]}${path}`, method, body, ADMIN);
  const call = (url: string, key: string) =>
    fetch(`${url}/proxy/${tenant}/svc/v1/ping`, { headers: { authorization: `Bearer ${key}` } });
  const keyOfLast = () => upstream.received.at(-1)?.headers['x-api-key'];
  // How long after `since` every one of B and C meets `ok` (each polled until it does).
  async function agreement(since: number, ok: (url: string) => Promise<boolean>) {
    const took = await Promise.all(
      urls.slice(1).map(async (url) => {
        await waitFor(`replica ${url} to agree`, () => ok(url), {
          timeoutMs: AGREE_WITHIN_MS,
          intervalMs: 100,
        });
        return Date.now() - since;
      }),
    );
    console.info(`fleet agreement: ${took.join(' ms, ')} ms`);
    return took;
  }

  beforeAll(async () => {
    upstream = await startUpstream();
    const yaml = `server: { host: 127.0.0.1, port: 0 }
vault: { prefix: ${prefix} }
admin: { token: ${ADMIN} }
cache: { ttlSeconds: 600 }
proxy: { keyCacheTtlSeconds: 600 }
fleet: { pollSeconds: 1 }
integrations:
  svc:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
`;
    for (let i = 0; i < 3; i += 1) {
      procs.push(spawnKeygate(yaml, { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token }));
    }
    for (const p of procs) {
      urls.push(
        await waitFor('a listening line', () => /"url":"(http:[^"]+)"/.exec(p.stdout())?.[1], {
          timeoutMs: 60_000,
        }),
      );
    }
  });
  afterAll(async () => {
    for (const p of procs) {
      p.kill('SIGKILL');
      await p.exit;
    }
    await upstream?.stop();
  });

  it('a key revoked, a credential replaced and deleted through one replica: the others follow within 5 s', async () => {
    expect(
      (await admin('PUT', `/v1/tenants/${tenant}/credentials/svc`, { apiKey: 'sk-first-0001' })).status,
    ).toBe(200);
    const created = await admin('POST', '/v1/keys', { tenants: [tenant] });
    const { id, key } = (await created.json()) as { id: string; key: string };
    // Warm every replica's caches: the key, and the credential.
    for (const url of urls) {
      const res = await call(url, key);
      expect(res.status).toBe(200);
      expect(keyOfLast()).toBe('sk-first-0001');
    }

    // Replaced: B and C inject the new API key.
    const replacedAt = Date.now();
    expect(
      (await admin('PUT', `/v1/tenants/${tenant}/credentials/svc`, { apiKey: 'sk-second-0002' })).status,
    ).toBe(200);
    await agreement(
      replacedAt,
      async (url) => (await call(url, key)).status === 200 && keyOfLast() === 'sk-second-0002',
    );

    // A second key, so that deleting the credential is seen without the first key's revocation.
    const other = (await (await admin('POST', '/v1/keys', { tenants: [tenant] })).json()) as { key: string };
    for (const url of urls) expect((await call(url, other.key)).status).toBe(200);

    // The key revoked: B and C refuse it.
    const revokedAt = Date.now();
    expect((await admin('DELETE', `/v1/keys/${id}`)).status).toBe(204);
    await agreement(revokedAt, async (url) => (await call(url, key)).status === 401);

    // The credential deleted: B and C no longer inject it.
    const deletedAt = Date.now();
    expect((await admin('DELETE', `/v1/tenants/${tenant}/credentials/svc`)).status).toBe(200);
    await agreement(deletedAt, async (url) => {
      const res = await call(url, other.key);
      return res.status !== 200 && res.headers.get('x-keygate-error') !== null;
    });
    const before = upstream.received.length;
    for (const url of urls) expect((await call(url, other.key)).status).not.toBe(200);
    expect(upstream.received.length).toBe(before);

    // Each replica keeps reading the changes record (about once a second) and, having
    // changed nothing itself, appended nothing. The count depends on how long the test ran
    // so far: wait for it to pass 3 rather than expect it at once.
    const counter = async (op: string) => {
      const text = await (await fetch(`${urls[1]}/metrics`)).text();
      return Number(new RegExp(`^keygate_fleet_changes_total\\{op="${op}"\\} (\\d+)`, 'm').exec(text)?.[1]);
    };
    await waitFor('replica B to keep polling the changes record', async () => (await counter('polls')) > 3, {
      timeoutMs: 15_000,
    });
    expect(await counter('appends')).toBe(0);
  });
});
