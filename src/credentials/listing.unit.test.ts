import { describe, expect, it } from 'vitest';
import { KeygateError } from '../errors.ts';
import { listAllListings } from './listing.ts';

// A KV of `tenants` tenants with `perTenant` accounts of `crm` each, counting what is asked of it.
function fakeKv(tenants: number, perTenant: number, failOn?: string) {
  const seen = { lists: 0, reads: 0, inFlight: 0, maxInFlight: 0 };
  const names = Array.from({ length: tenants }, (_, t) => `t${String(t).padStart(3, '0')}`);
  const call = async <T>(answer: () => T): Promise<T> => {
    seen.inFlight += 1;
    seen.maxInFlight = Math.max(seen.maxInFlight, seen.inFlight);
    await new Promise((resolve) => setImmediate(resolve));
    seen.inFlight -= 1;
    return answer();
  };
  const kv = {
    list: (prefix: string) => {
      seen.lists += 1;
      return call(() => {
        if (prefix === 'credentials/') return names.map((n) => `${n}/`);
        if (prefix.endsWith('/crm/')) return Array.from({ length: perTenant }, (_, a) => `a${a}`);
        return ['crm/'];
      });
    },
    read: <T extends object>(path: string) => {
      seen.reads += 1;
      return call(() => {
        if (path === failOn) throw new KeygateError('vault_unavailable');
        return {
          data: { authType: 'oauth2', expiresAt: '2026-01-01T00:00:00Z' } as T,
          version: 1,
          customMetadata: {},
        };
      });
    },
  };
  return { kv, seen };
}

describe('listAllListings', () => {
  it('lists every credential in order, never more requests in flight than asked for', async () => {
    const { kv, seen } = fakeKv(20, 10);
    const all = await listAllListings(kv, 4);
    expect(all).toHaveLength(200);
    expect(all[0]).toMatchObject({ tenant: 't000', integration: 'crm', account: 'a0' });
    expect(all.at(-1)).toMatchObject({ tenant: 't019', account: 'a9' });
    expect(seen.reads).toBe(200);
    expect(seen.maxInFlight).toBeLessThanOrEqual(4);
  });

  it('stops at the first failure: the queued reads of a failed listing never run', async () => {
    const { kv, seen } = fakeKv(20, 10, 'credentials/t000/crm/a0');
    await expect(listAllListings(kv, 4)).rejects.toMatchObject({ code: 'vault_unavailable' });
    const readsAtFailure = seen.reads;
    // Whatever was in flight finishes; nothing queued starts.
    for (let i = 0; i < 20; i += 1) await new Promise((resolve) => setImmediate(resolve));
    expect(seen.reads).toBeLessThanOrEqual(readsAtFailure + 4);
    expect(seen.reads).toBeLessThan(200);
  });
});
