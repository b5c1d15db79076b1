import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { TEMPLATES } from '../../src/config/templates.ts';
import { recordingAdminCall } from '../support/http.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { uniqueTenant } from '../support/store.ts';
import { vaultAdmin } from '../support/vault-admin.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-listings-0123456789';
const CANARIES = ['canary-cs-Lm39Vx', 'canary-hdr-Pq82Ta', 'canary-pw-Xz18Rb', 'canary-key-Bn47Wc'];

describe('admin listings: keys, tenants, integrations, templates', () => {
  let keygate: TestKeygate;
  // A Vault prefix of its own, so the listings hold only what this file wrote.
  const prefix = uniqueTenant('listings');
  const answers: string[] = [];

  const call = recordingAdminCall(() => keygate.url, ADMIN, answers);

  beforeAll(async () => {
    keygate = await startTestKeygate(
      `
admin: { token: ${ADMIN} }
vault: { prefix: ${prefix} }
integrations:
  github:
    template: github
    auth: { type: oauth2, clientId: gh-client, clientSecret: ${CANARIES[0]}, scopes: [repo] }
    headers: { x-static-secret: ${CANARIES[1]} }
  anthropic: { template: anthropic }
  legacy:
    baseUrl: https://legacy.example
    auth: { type: api_key }
    inject: { basic: { username: svc, password: ${CANARIES[2]} } }
  machine:
    baseUrl: https://m2m.example
    auth: { type: oauth2_client_credentials, tokenUrl: "https://m2m.example/token", clientId: m2m }
    upstream: { headersTimeoutMs: 600000 }
`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
  });
  afterAll(async () => {
    const everything = [...answers, ...keygate.lines].join('\n');
    for (const canary of CANARIES) expect(everything).not.toContain(canary);
    await keygate.close();
  });

  it('refuses every listing without the admin token', async () => {
    for (const path of ['/keys', '/tenants', '/integrations', '/templates']) {
      const res = await call('GET', path, undefined, null);
      expect([path, res.status, res.code]).toEqual([path, 401, 'unauthorized']);
    }
  });

  it('lists keys with their scope, never a secret or digest, and forgets a revoked one', async () => {
    expect((await call('GET', '/keys')).body).toEqual({ keys: [] });
    const ci = (await call('POST', '/keys', { name: 'ci', tenants: ['acme'], integrations: ['github'] }))
      .body;
    const all = (await call('POST', '/keys', { tenants: ['*'] })).body;
    const listed = await call('GET', '/keys');
    expect(listed.status).toBe(200);
    expect(listed.body.keys).toEqual([
      { id: ci.id, name: 'ci', tenants: ['acme'], integrations: ['github'], createdAt: ci.createdAt },
      { id: all.id, tenants: ['*'], createdAt: all.createdAt },
    ]);
    const text = JSON.stringify(listed.body);
    for (const key of [ci.key, all.key]) expect(text).not.toContain(key.split('.')[1]);
    expect(text).not.toMatch(/salt|hash|"key"/);

    expect((await call('DELETE', `/keys/${ci.id}`)).status).toBe(204);
    expect((await call('GET', '/keys')).body.keys.map((k: { id: string }) => k.id)).toEqual([all.id]);
  });

  it('lists the tenants holding credentials, and drops one whose last credential is deleted', async () => {
    expect((await call('GET', '/tenants')).body).toEqual({ tenants: [] });
    await call('PUT', '/tenants/zeta/credentials/anthropic', { apiKey: CANARIES[3] });
    await call('PUT', '/tenants/acme/credentials/anthropic', { apiKey: CANARIES[3] });
    await call('PUT', '/tenants/acme/credentials/github', { accessToken: CANARIES[3] });
    expect((await call('GET', '/tenants')).body).toEqual({ tenants: [{ name: 'acme' }, { name: 'zeta' }] });

    expect((await call('DELETE', '/tenants/zeta/credentials/anthropic')).status).toBe(200);
    expect((await call('GET', '/tenants')).body).toEqual({ tenants: [{ name: 'acme' }] });
    // Listing reads Vault only: what it answered is what KV holds.
    const kv = await vaultAdmin(vault)('LIST', `secret/metadata/${prefix}/credentials/`);
    expect(kv.body.data.keys).toEqual(['acme/']);
  });

  it('lists the configured integrations with non-secret fields only', async () => {
    const res = await call('GET', '/integrations');
    expect(res.status).toBe(200);
    const byName = Object.fromEntries(res.body.integrations.map((i: { name: string }) => [i.name, i]));
    expect(Object.keys(byName)).toEqual(['anthropic', 'github', 'legacy', 'machine']);
    expect(byName.github).toMatchObject({
      template: 'github',
      baseUrl: 'https://api.github.com',
      auth: { type: 'oauth2', clientId: 'gh-client', clientSecretSet: true, scopes: ['repo'] },
      connect: true,
    });
    expect(byName.github.headers).toContain('x-static-secret');
    expect(byName.anthropic).toMatchObject({
      auth: { type: 'api_key', clientSecretSet: false },
      inject: { header: 'x-api-key', format: '{token}' },
      headers: ['anthropic-version'],
      connect: false,
    });
    expect(byName.legacy.inject).toEqual({ basic: { username: 'svc' } });
    expect(byName.machine).toMatchObject({ upstream: { headersTimeoutMs: 600000 }, connect: false });
  });

  it('lists the template catalogue with where each was checked', async () => {
    const res = await call('GET', '/templates');
    expect(res.status).toBe(200);
    expect(res.body.templates.map((t: { name: string }) => t.name)).toEqual(Object.keys(TEMPLATES).sort());
    const anthropic = res.body.templates.find((t: { name: string }) => t.name === 'anthropic');
    expect(anthropic).toMatchObject({
      title: expect.any(String),
      category: 'ai',
      verified: expect.any(String),
      config: { baseUrl: 'https://api.anthropic.com', auth: { type: 'api_key' } },
    });
  });
});
