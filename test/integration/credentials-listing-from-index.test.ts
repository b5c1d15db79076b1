import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jsonFetch } from '../support/http.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startVaultFront, type VaultFront } from '../support/vault-front.ts';
import { waitFor } from '../support/wait.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-listing-index-0123456789';
const CANARY = 'sk-listing-index-canary-Wq72';

interface Row {
  tenant: string;
  integration: string;
  account: string;
  status: string;
  expiresAt: string | null;
  updatedAt: string | null;
}

// GET /v1/credentials and GET /v1/inventory are one index: they agree, a page costs no
// Vault read, and a credential stored through another replica shows on this one.
describe('GET /v1/credentials from the fleet inventory', () => {
  let front: VaultFront;
  let a: TestKeygate;
  let b: TestKeygate;
  const prefix = `kg-listidx-${Math.random().toString(36).slice(2, 8)}`;
  const yaml = `admin: { token: ${ADMIN} }
vault: { prefix: ${prefix}, retryBudgetMs: 200 }
fleet: { pollSeconds: 0.2 }
integrations:
  anthropic: { template: anthropic }
  openai: { template: openai }
`;
  const get = async (keygate: TestKeygate, path: string) => {
    const res = await jsonFetch(`${keygate.url}${path}`, 'GET', undefined, ADMIN);
    return { status: res.status, body: (await res.json()) as { credentials: Row[] } };
  };
  const names = (rows: Row[]) => rows.map((r) => `${r.tenant}/${r.integration}/${r.account}:${r.status}`);

  beforeAll(async () => {
    front = await startVaultFront(vault.address);
    a = await startTestKeygate(yaml, { VAULT_ADDR: front.address, VAULT_TOKEN: vault.token });
    b = await startTestKeygate(yaml, { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token });
    for (const tenant of ['t1', 't2']) {
      for (const integration of ['anthropic', 'openai']) {
        const res = await jsonFetch(
          `${a.url}/v1/tenants/${tenant}/credentials/${integration}`,
          'PUT',
          { apiKey: `${CANARY}-${tenant}` },
          ADMIN,
        );
        expect(res.status).toBe(200);
      }
    }
  });
  afterAll(async () => {
    const everything = [...(a?.lines ?? []), ...(b?.lines ?? [])].join('\n');
    expect(everything).not.toContain(CANARY);
    await a?.close();
    await b?.close();
    await front?.stop();
  });

  it('agrees with GET /v1/inventory, row for row', async () => {
    const listed = await get(a, '/v1/credentials');
    const inventory = await get(a, '/v1/inventory?limit=1000');
    expect(listed.status).toBe(200);
    expect(names(listed.body.credentials)).toEqual([
      't1/anthropic/default:active',
      't1/openai/default:active',
      't2/anthropic/default:active',
      't2/openai/default:active',
    ]);
    expect(names(inventory.body.credentials)).toEqual(names(listed.body.credentials));
    for (const row of listed.body.credentials) expect(Date.parse(row.updatedAt ?? '')).toBeGreaterThan(0);
  });

  it('answers a page with Vault cut off: it reads none', async () => {
    const before = await get(a, '/v1/credentials?tenant=t2');
    front.set('refuse');
    try {
      const during = await get(a, '/v1/credentials?tenant=t2');
      expect(during.status).toBe(200);
      expect(during.body).toEqual(before.body);
      const filtered = await get(a, '/v1/credentials?integration=openai&status=active&limit=1');
      expect(names(filtered.body.credentials)).toEqual(['t1/openai/default:active']);
    } finally {
      front.set('up');
    }
  });

  it('shows a credential stored and deleted through another replica, with Vault’s own updatedAt', async () => {
    const put = await jsonFetch(
      `${b.url}/v1/tenants/t3/credentials/anthropic`,
      'PUT',
      { apiKey: CANARY },
      ADMIN,
    );
    expect(put.status).toBe(200);
    const stored = (await put.json()) as { updatedAt: string };
    const row = await waitFor('replica A to list t3', async () =>
      (await get(a, '/v1/credentials?tenant=t3')).body.credentials.at(0),
    );
    expect(row).toMatchObject({ tenant: 't3', integration: 'anthropic', status: 'active' });
    expect(row.updatedAt).toBe(stored.updatedAt);
    expect(
      (await jsonFetch(`${b.url}/v1/tenants/t3/credentials/anthropic`, 'DELETE', undefined, ADMIN)).status,
    ).toBe(200);
    await waitFor(
      'replica A to drop t3',
      async () => (await get(a, '/v1/credentials?tenant=t3')).body.credentials.length === 0,
    );
    expect((await get(a, '/v1/inventory?tenant=t3')).body.credentials).toEqual([]);
  });
});
