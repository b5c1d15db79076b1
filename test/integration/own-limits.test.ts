import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';

const limitedTenant = uniqueTenant('limited');
const freeTenant = uniqueTenant('free');

describe("Keygate's own limits (per key, per tenant)", () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;

  beforeAll(async () => {
    upstream = await startUpstream();
    keygate = await startProxyKeygate(`
tenants:
  ${limitedTenant}: { limits: { requestsPerMinute: 3 } }
integrations:
  api:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
`);
    await keygate.putCredential(limitedTenant, 'api', { apiKey: 'sk-limited' });
    await keygate.putCredential(freeTenant, 'api', { apiKey: 'sk-free' });
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  const call = (tenant: string, key: string) =>
    fetch(`${keygate.url}/proxy/${tenant}/api/x`, { headers: { authorization: `Bearer ${key}` } });
  const createKey = async (body: Record<string, unknown>) => {
    const res = await keygate.admin('POST', '/v1/keys', body);
    return { status: res.status, body: (await res.json()) as any };
  };

  it('answers a key over its requestsPerMinute with 429 rate_limited, Retry-After and RateLimit fields', async () => {
    const limited = await createKey({ tenants: [freeTenant], limits: { requestsPerMinute: 2 } });
    expect(limited).toMatchObject({ status: 201, body: { limits: { requestsPerMinute: 2 } } });
    const free = await createKey({ tenants: [freeTenant] });
    const before = upstream.received.length;
    expect((await call(freeTenant, limited.body.key)).status).toBe(200);
    expect((await call(freeTenant, limited.body.key)).status).toBe(200);
    const refused = await call(freeTenant, limited.body.key);
    expect(refused.status).toBe(429);
    expect(refused.headers.get('x-keygate-error')).toBe('rate_limited');
    const retryAfter = Number(refused.headers.get('retry-after'));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(refused.headers.get('ratelimit')).toBe(`"key";r=0;t=${retryAfter}`);
    expect(refused.headers.get('ratelimit-policy')).toBe('"key";q=2;w=60');
    expect(await refused.json()).toMatchObject({ error: { code: 'rate_limited' } });
    expect(upstream.received.length - before).toBe(2); // the refused one never left Keygate
    // Another key of the same tenant is not limited by it.
    for (let i = 0; i < 5; i += 1) expect((await call(freeTenant, free.body.key)).status).toBe(200);
    // The limit is a key attribute: listed, never with a secret.
    const listed = (await (await keygate.admin('GET', '/v1/keys')).json()) as { keys: any[] };
    expect(listed.keys.find((k) => k.id === limited.body.id)).toMatchObject({
      limits: { requestsPerMinute: 2 },
    });
    expect(JSON.stringify(listed)).not.toContain(limited.body.key);
  });

  it("counts a tenant's requests across all its keys (tenants.NAME.limits)", async () => {
    const [a, b] = await Promise.all([
      createKey({ tenants: [limitedTenant] }),
      createKey({ tenants: ['*'] }),
    ]);
    const statuses = [];
    for (const key of [a, b, a, b]) statuses.push((await call(limitedTenant, key.body.key)).status);
    expect(statuses).toEqual([200, 200, 200, 429]);
    const refused = await call(limitedTenant, a.body.key);
    expect(refused.headers.get('ratelimit-policy')).toBe('"tenant";q=3;w=60');
    // The key that acts for every tenant still works elsewhere.
    expect((await call(freeTenant, b.body.key)).status).toBe(200);
  });

  it('counts only requests Keygate would serve: refused accounts are not counted, on either path', async () => {
    const key = await createKey({
      tenants: [freeTenant],
      accounts: ['default'],
      limits: { requestsPerMinute: 2 },
    });
    expect(key.status).toBe(201);
    const other = { authorization: `Bearer ${key.body.key}`, 'keygate-account': 'someone-else' };
    // The first is the slow path (the key not yet verified); the next ones the cache-hit path.
    for (let i = 0; i < 3; i += 1) {
      const refused = await fetch(`${keygate.url}/proxy/${freeTenant}/api/x`, { headers: other });
      expect([refused.status, refused.headers.get('x-keygate-error')]).toEqual([403, 'account_not_allowed']);
    }
    const statuses = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await call(freeTenant, key.body.key)).status);
    expect(statuses).toEqual([200, 200, 429]);
  });

  it('refuses a limit that is not a positive whole number', async () => {
    for (const limits of [{ requestsPerMinute: 0 }, { requestsPerMinute: 1.5 }, { perHour: 5 }]) {
      const res = await keygate.admin('POST', '/v1/keys', { tenants: [freeTenant], limits });
      expect([JSON.stringify(limits), res.status, res.headers.get('x-keygate-error')]).toEqual([
        JSON.stringify(limits),
        400,
        'validation_failed',
      ]);
    }
  });
});
