import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jsonFetch } from '../support/http.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-fleet-inventory-0123456789';

describe('GET /v1/credentials (alias /v1/inventory): the fleet inventory, paged from memory', () => {
  let keygate: TestKeygate;
  const get = async (query: string) => {
    const res = await jsonFetch(`${keygate.url}/v1/inventory${query}`, 'GET', undefined, ADMIN);
    return { status: res.status, code: res.headers.get('x-keygate-error'), body: (await res.json()) as any };
  };

  beforeAll(async () => {
    keygate = await startTestKeygate(
      `vault: { prefix: kg-fleet-${Math.random().toString(36).slice(2, 8)} }
integrations:
  anthropic: { template: anthropic }
  openai: { template: openai }
`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token, KEYGATE_ADMIN_TOKEN: ADMIN },
    );
    for (let i = 0; i < 7; i += 1) {
      for (const integration of ['anthropic', 'openai']) {
        const res = await jsonFetch(
          `${keygate.url}/v1/tenants/t${i}/credentials/${integration}`,
          'PUT',
          { apiKey: `sk-fleet-canary-${i}-${integration}` },
          ADMIN,
        );
        expect(res.status).toBe(200);
      }
    }
  });
  afterAll(async () => {
    await keygate?.close();
  });

  it('pages every credential once, in order, with a cursor and a total', async () => {
    const seen: string[] = [];
    let cursor = '';
    for (let page = 0; page < 10; page += 1) {
      const { status, body } = await get(`?limit=4${cursor ? `&cursor=${cursor}` : ''}`);
      expect(status).toBe(200);
      expect(body.total).toBe(14);
      seen.push(...body.credentials.map((c: any) => `${c.tenant}/${c.integration}/${c.account}`));
      if (!body.nextCursor) break;
      cursor = body.nextCursor;
    }
    expect(seen).toEqual(
      Array.from({ length: 7 }, (_, i) => [`t${i}/anthropic/default`, `t${i}/openai/default`]).flat(),
    );
    expect(JSON.stringify(seen)).not.toContain('sk-fleet-canary');
  });

  it('filters by tenant, integration, status and free text', async () => {
    expect((await get('?tenant=t3')).body.total).toBe(2);
    expect((await get('?integration=openai&q=T1')).body.credentials).toMatchObject([
      { tenant: 't1', integration: 'openai', authType: 'api_key', status: 'active', expiringSoon: false },
    ]);
    expect((await get('?status=needs_reauth')).body).toEqual({ credentials: [], nextCursor: null, total: 0 });
  });

  it('follows a delete at once', async () => {
    const res = await jsonFetch(
      `${keygate.url}/v1/tenants/t6/credentials/openai`,
      'DELETE',
      undefined,
      ADMIN,
    );
    expect(res.status).toBeLessThan(300);
    expect((await get('?tenant=t6')).body.credentials.map((c: any) => c.integration)).toEqual(['anthropic']);
  });

  it('refuses a bad filter, limit or cursor with validation_failed, and a bad name with invalid_name', async () => {
    for (const query of ['?status=gone', '?limit=0', '?limit=5000', '?cursor=bogus', '?x=1']) {
      const { status, code } = await get(query);
      expect([query, status, code]).toEqual([query, 400, 'validation_failed']);
    }
    for (const query of ['?tenant=../x', '?integration=A', '?account=a%20b']) {
      const { status, code } = await get(query);
      expect([query, status, code]).toEqual([query, 400, 'invalid_name']);
    }
  });

  it('is one route under two names: /v1/inventory answers what /v1/credentials answers', async () => {
    for (const query of ['?limit=3', '?tenant=t2', '?status=active&q=open', '?tenant=..']) {
      const alias = await get(query);
      const res = await jsonFetch(`${keygate.url}/v1/credentials${query}`, 'GET', undefined, ADMIN);
      const body = (await res.json()) as any;
      // An error's requestId is each request's own.
      for (const b of [body, alias.body]) delete b.error?.requestId;
      expect([query, res.status, body]).toEqual([query, alias.status, alias.body]);
    }
  });
});
