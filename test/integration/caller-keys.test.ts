import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { CallerKeys } from '../../src/keys/key-store.ts';
import type { KvStore } from '../../src/vault/kv.ts';
import { makeStore, type TestStore } from '../support/store.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { waitFor } from '../support/wait.ts';

const vault = inject('vault');

// The real KvStore on the real Vault, with its reads counted.
function counted(kv: KvStore): { kv: KvStore; reads: () => number } {
  let reads = 0;
  const wrapper = {
    read: (path: string) => {
      reads += 1;
      return kv.read(path);
    },
    write: kv.write.bind(kv),
    destroy: kv.destroy.bind(kv),
  } as unknown as KvStore;
  return { kv: wrapper, reads: () => reads };
}

describe('Keygate keys in Vault', () => {
  let test: TestStore;
  beforeAll(async () => {
    test = await makeStore(vault, 'vault: { prefix: keygate }');
  });
  afterAll(() => test?.close());

  it('stores only a salted digest of the secret, and the scope', async () => {
    const keys = new CallerKeys({ kv: test.kv, cacheTtlMs: 30_000, cacheMaxEntries: 100 });
    const created = await keys.create({ name: 'ci', tenants: ['acme'], integrations: ['github'] });
    const raw = await vaultAdmin(vault)('GET', `secret/data/keygate/keys/${created.id}`);
    const stored = JSON.stringify(raw.body.data.data);
    expect(stored).not.toContain(created.key.split('.')[1]);
    expect(raw.body.data.data).toMatchObject({ tenants: ['acme'], integrations: ['github'], name: 'ci' });
    expect(raw.body.data.data.hash).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('answers cache hits without a Vault call; another replica reads once', async () => {
    const a = counted(test.kv);
    const replicaA = new CallerKeys({ kv: a.kv, cacheTtlMs: 30_000, cacheMaxEntries: 100 });
    const { key } = await replicaA.create({ tenants: ['*'] });
    for (let i = 0; i < 50; i += 1) expect(await replicaA.verify(key)).toBeDefined();
    expect(a.reads()).toBe(0);

    const b = counted(test.kv);
    const replicaB = new CallerKeys({ kv: b.kv, cacheTtlMs: 30_000, cacheMaxEntries: 100 });
    const answers = await Promise.all(Array.from({ length: 20 }, () => replicaB.verify(key)));
    expect(answers.every(Boolean)).toBe(true);
    expect(b.reads()).toBe(1); // concurrent misses share one read
    expect(await replicaB.verify(`${key.slice(0, -1)}${key.endsWith('A') ? 'B' : 'A'}`)).toBeUndefined();
    expect(b.reads()).toBe(1);
  });

  it('reads a made-up id once, not once per request', async () => {
    const c = counted(test.kv);
    const keys = new CallerKeys({ kv: c.kv, cacheTtlMs: 30_000, cacheMaxEntries: 100 });
    const bogus = `kg_ffffffffffffffff.${'x'.repeat(43)}`;
    for (let i = 0; i < 10; i += 1) expect(await keys.verify(bogus)).toBeUndefined();
    expect(c.reads()).toBe(1);
  });

  it('a deleted key stops at once where it was deleted, and within the cache TTL elsewhere', async () => {
    const replicaA = new CallerKeys({ kv: test.kv, cacheTtlMs: 30_000, cacheMaxEntries: 100 });
    const replicaB = new CallerKeys({ kv: test.kv, cacheTtlMs: 300, cacheMaxEntries: 100 });
    const { id, key } = await replicaA.create({ tenants: ['*'] });
    expect(await replicaB.verify(key)).toBeDefined();
    await replicaA.revoke(id);
    expect(await replicaA.verify(key)).toBeUndefined();
    await waitFor('replica B to drop the key', async () => (await replicaB.verify(key)) === undefined);
    await expect(replicaA.revoke(id)).rejects.toMatchObject({ code: 'key_not_found' });
  });
});
