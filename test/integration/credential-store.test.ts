import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { isKeygateError } from '../../src/errors.ts';
import { makeStore, uniqueTenant, type TestStore } from '../support/store.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { errorCodeOf } from '../support/http.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');
const root = vaultAdmin(vault);

const CANARY_TOKEN = 'canary-access-7Hq2xZ9pL4mN8vB3';
const CANARY_REFRESH = 'canary-refresh-Kd83nQ0wYt5rX1cV';
const CANARY_KEY = 'canary-apikey-Pz6sM2jF9hL0qW4e';

const codeOf = errorCodeOf;

describe('credential store on OpenBao', () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await makeStore(vault, 'vault: { prefix: keygate }');
  });
  afterAll(() => t.close());

  it('round-trips OAuth and API-key credentials; lists, has, and deletes for good', async () => {
    const tenant = uniqueTenant('roundtrip');
    const expiresAt = new Date(Date.now() + 3600_000).toISOString();
    const oauth = await t.store.put(credentialRef(tenant, 'github'), {
      authType: 'oauth2',
      secret: { accessToken: CANARY_TOKEN, refreshToken: CANARY_REFRESH, tokenType: 'bearer' },
      expiresAt,
      scopes: ['repo'],
    });
    expect(oauth.version).toBe(1);
    await t.store.put(credentialRef(tenant, 'anthropic'), {
      authType: 'api_key',
      secret: { apiKey: CANARY_KEY },
    });

    const read = await t.store.read(credentialRef(tenant, 'github'));
    expect(read.secret).toEqual({
      accessToken: CANARY_TOKEN,
      refreshToken: CANARY_REFRESH,
      tokenType: 'bearer',
    });
    expect(read).toMatchObject({
      authType: 'oauth2',
      status: 'active',
      expiresAt,
      scopes: ['repo'],
      version: 1,
    });
    expect((await t.store.read(credentialRef(tenant, 'anthropic'))).secret).toEqual({ apiKey: CANARY_KEY });

    const listed = await t.store.list(tenant);
    expect(listed.map((m) => m.integration).sort()).toEqual(['anthropic', 'github']);
    expect(JSON.stringify(listed)).not.toContain('canary');
    const all = await t.store.listAll();
    expect(all.filter((l) => l.tenant === tenant)).toEqual(
      expect.arrayContaining([
        {
          tenant,
          integration: 'github',
          account: 'default',
          authType: 'oauth2',
          status: 'active',
          expiresAt,
          lastRefreshedAt: null,
          updatedAt: expect.any(String),
          lastRefreshError: null,
          version: 1,
        },
        {
          tenant,
          integration: 'anthropic',
          account: 'default',
          authType: 'api_key',
          status: 'active',
          expiresAt: null,
          lastRefreshedAt: null,
          updatedAt: expect.any(String),
          lastRefreshError: null,
          version: 1,
        },
      ]),
    );
    expect(await t.store.has(credentialRef(tenant, 'github'))).toBe(true);
    expect(await t.store.has(credentialRef(tenant, 'slack'))).toBe(false);

    // A second version, then delete: every version goes, none can be restored.
    await t.store.put(
      credentialRef(tenant, 'github'),
      { authType: 'oauth2', secret: { accessToken: 'second' } },
      { cas: 1 },
    );
    await t.store.delete(credentialRef(tenant, 'github'));
    expect(await codeOf(t.store.get(credentialRef(tenant, 'github')))).toBe('credential_not_found');
    expect(await codeOf(t.store.read(credentialRef(tenant, 'github')))).toBe('credential_not_found');
    expect(await t.store.has(credentialRef(tenant, 'github'))).toBe(false);
    const kvPath = `keygate/credentials/${tenant}/github`;
    expect((await root('GET', `secret/metadata/${kvPath}`)).status).toBe(404);
    await root('POST', `secret/undelete/${kvPath}`, { versions: [1, 2] });
    expect((await root('GET', `secret/data/${kvPath}?version=1`)).status).toBe(404);
    expect(await codeOf(t.store.delete(credentialRef(tenant, 'github')))).toBe('credential_not_found');
  });

  it('keeps only ciphertext at rest: no substring of a canary in the raw records', async () => {
    const tenant = uniqueTenant('atrest');
    await t.store.put(credentialRef(tenant, 'github'), {
      authType: 'oauth2',
      secret: { accessToken: CANARY_TOKEN, refreshToken: CANARY_REFRESH },
      expiresAt: new Date(Date.now() + 60_000).toISOString(),
    });
    await t.store.put(credentialRef(tenant, 'anthropic'), {
      authType: 'api_key',
      secret: { apiKey: CANARY_KEY },
    });
    for (const integration of ['github', 'anthropic']) {
      const data = await root('GET', `secret/data/keygate/credentials/${tenant}/${integration}`);
      const meta = await root('GET', `secret/metadata/keygate/credentials/${tenant}/${integration}`);
      expect(data.body.data.data.ciphertext).toMatch(/^vault:v1:/);
      expect(meta.body.data.custom_metadata, integration).toMatchObject({ status: 'active' });
      const raw = JSON.stringify([data.body, meta.body]);
      for (const canary of [CANARY_TOKEN, CANARY_REFRESH, CANARY_KEY]) {
        const secretPart = canary.slice(canary.lastIndexOf('-') + 1);
        for (let i = 0; i + 6 <= secretPart.length; i += 1)
          expect(raw).not.toContain(secretPart.slice(i, i + 6));
        expect(raw).not.toContain(Buffer.from(canary).toString('base64').slice(0, 12));
      }
    }
  });

  it('isolates tenants and integrations: one derived Transit key each, context-bound ciphertext', async () => {
    const a = uniqueTenant('iso-a');
    const b = uniqueTenant('iso-b');
    await t.store.put(credentialRef(a, 'github'), { authType: 'oauth2', secret: { accessToken: 'a-token' } });
    await t.store.put(credentialRef(b, 'github'), { authType: 'oauth2', secret: { accessToken: 'b-token' } });
    await t.store.put(credentialRef(a, 'slack'), { authType: 'oauth2', secret: { accessToken: 'a-slack' } });
    for (const tenant of [a, b]) {
      const key = await root('GET', `transit/keys/keygate-${tenant}`);
      expect(key.body.data).toMatchObject({ type: 'aes256-gcm96', derived: true, deletion_allowed: false });
    }
    const bRecord = await root('GET', `secret/data/keygate/credentials/${b}/github`);
    const bCiphertext: string = bRecord.body.data.data.ciphertext;
    const context = Buffer.from('github').toString('base64');
    const withAKey = await root('POST', `transit/decrypt/keygate-${a}`, { ciphertext: bCiphertext, context });
    expect(withAKey.status).toBe(400);

    // Tenant A's github ciphertext copied into A's slack record does not decrypt there.
    const aGithub = await root('GET', `secret/data/keygate/credentials/${a}/github`);
    const aSlack = await root('GET', `secret/data/keygate/credentials/${a}/slack`);
    await root('POST', `secret/data/keygate/credentials/${a}/slack`, {
      data: { ...aSlack.body.data.data, ciphertext: aGithub.body.data.data.ciphertext },
    });
    t.store.invalidate(credentialRef(a, 'slack'));
    expect(await codeOf(t.store.read(credentialRef(a, 'slack')))).toBe('credential_undecryptable');
    expect(await codeOf(t.store.get(credentialRef(a, 'slack')))).toBe('credential_undecryptable');
  });

  it('lets one of two racing writers win; the other gets conflict', async () => {
    const tenant = uniqueTenant('race');
    await t.store.put(credentialRef(tenant, 'github'), { authType: 'oauth2', secret: { accessToken: 'v1' } });
    const { version } = await t.store.read(credentialRef(tenant, 'github'));
    const results = await Promise.allSettled(
      ['writer-a', 'writer-b'].map((who) =>
        t.store.put(
          credentialRef(tenant, 'github'),
          { authType: 'oauth2', secret: { accessToken: who } },
          { cas: version },
        ),
      ),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    expect(won).toHaveLength(1);
    expect(lost).toHaveLength(1);
    expect(isKeygateError((lost[0] as PromiseRejectedResult).reason, 'conflict')).toBe(true);
    const winner = (won[0] as PromiseFulfilledResult<{ secret: { accessToken?: string } }>).value.secret
      .accessToken;
    expect((await t.store.read(credentialRef(tenant, 'github'))).secret.accessToken).toBe(winner);
    // Creating over an existing record with cas 0 is a conflict too.
    expect(
      await codeOf(
        t.store.put(
          credentialRef(tenant, 'github'),
          { authType: 'oauth2', secret: { accessToken: 'x' } },
          { cas: 0 },
        ),
      ),
    ).toBe('conflict');
  });

  it('rotates a tenant key and rewraps every record while reads keep working', async () => {
    const tenant = uniqueTenant('rotate');
    const integrations = ['github', 'slack', 'google', 'xero'];
    for (const integration of integrations) {
      await t.store.put(credentialRef(tenant, integration), {
        authType: 'oauth2',
        secret: { accessToken: `tok-${integration}` },
      });
    }
    let reading = true;
    let reads = 0;
    const reader = (async () => {
      while (reading) {
        for (const integration of integrations) {
          expect((await t.store.read(credentialRef(tenant, integration))).secret.accessToken).toBe(
            `tok-${integration}`,
          );
          reads += 1;
        }
      }
    })();
    const rotated = await t.store.rotateKey(tenant);
    const again = await t.store.rotateKey(tenant);
    reading = false;
    await reader;
    expect(reads).toBeGreaterThan(0);
    expect(rotated).toEqual({ keyVersion: 2, rewrapped: 4 });
    expect(again).toEqual({ keyVersion: 3, rewrapped: 4 });
    for (const integration of integrations) {
      const raw = await root('GET', `secret/data/keygate/credentials/${tenant}/${integration}`);
      expect(raw.body.data.data.ciphertext).toMatch(/^vault:v3:/);
      expect((await t.store.read(credentialRef(tenant, integration))).secret.accessToken).toBe(
        `tok-${integration}`,
      );
    }
  });
});

describe('names', () => {
  it('rejects bad tenant and integration names before any Vault call', async () => {
    // A store whose Vault is unreachable: a Vault call would end in vault_unavailable.
    const dead = await makeStore(
      { address: 'http://127.0.0.1:9', token: 'unused' },
      'vault: { retryBudgetMs: 0 }',
    );
    const bad = ['../x', 'a/b', 'A', '', 'a'.repeat(64), 'x%2f..', '.hidden', '-lead'];
    try {
      for (const name of bad) {
        expect(await codeOf(dead.store.get(credentialRef(name, 'github')))).toBe('invalid_name');
        expect(await codeOf(dead.store.get(credentialRef('acme', name)))).toBe('invalid_name');
        expect(
          await codeOf(
            dead.store.put(credentialRef(name, 'github'), { authType: 'api_key', secret: { apiKey: 'k' } }),
          ),
        ).toBe('invalid_name');
        expect(await codeOf(dead.store.list(name))).toBe('invalid_name');
      }
      expect(await codeOf(dead.store.get(credentialRef('acme', 'github')))).toBe('vault_unavailable');
    } finally {
      dead.close();
    }
  });
});
