import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { recordingAdminCall } from '../support/http.ts';
import { uniqueTenant } from '../support/store.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-credentials-0123456789';
const CANARIES = ['canary-at-Zx81Kq', 'canary-rt-Mv27Lp', 'canary-key-Qw55Hn'];

describe('admin credential API', () => {
  let keygate: TestKeygate;
  const tenant = uniqueTenant('admin');
  const answers: string[] = [];

  const call = recordingAdminCall(() => keygate.url, ADMIN, answers);

  beforeAll(async () => {
    keygate = await startTestKeygate(
      `
admin: { token: ${ADMIN} }
integrations:
  github: { template: github, auth: { type: oauth2, clientId: c, scopes: [repo] } }
  anthropic: { template: anthropic }
`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
  });
  afterAll(async () => {
    // No canary in any answer, header or log line, whatever happened above.
    const everything = [...answers, ...keygate.lines].join('\n');
    for (const canary of CANARIES) expect(everything).not.toContain(canary);
    await keygate.close();
  });

  it('refuses requests without the admin token, or with a wrong one, before reading the body', async () => {
    const path = `/tenants/${tenant}/credentials/github`;
    for (const token of [null, 'wrong-token-0123456789', `${ADMIN}x`, '']) {
      const res = await call('PUT', path, { accessToken: CANARIES[0], bogus: true }, token);
      expect(res.status).toBe(401);
      expect(res.code).toBe('unauthorized');
      expect(res.body.error).toMatchObject({ code: 'unauthorized', requestId: expect.any(String) });
    }
    expect((await call('GET', path)).status).toBe(404);
  });

  it('stores, shows, lists and deletes; answers with metadata only', async () => {
    const put = await call('PUT', `/tenants/${tenant}/credentials/github`, {
      accessToken: CANARIES[0],
      refreshToken: CANARIES[1],
      expiresIn: 3600,
    });
    expect(put.status).toBe(200);
    expect(Object.keys(put.body).sort()).toEqual([
      'account',
      'authType',
      'createdAt',
      'expiresAt',
      'integration',
      'lastRefreshedAt',
      'scopes',
      'status',
      'tenant',
      'updatedAt',
    ]);
    expect(put.body).toMatchObject({
      tenant,
      integration: 'github',
      authType: 'oauth2',
      status: 'active',
      scopes: ['repo'],
    });
    expect(Date.parse(put.body.expiresAt) - Date.now()).toBeGreaterThan(3500_000);

    const key = await call('PUT', `/tenants/${tenant}/credentials/anthropic`, { apiKey: CANARIES[2] });
    expect(key.body).toMatchObject({ authType: 'api_key', expiresAt: null });

    expect((await call('GET', `/tenants/${tenant}/credentials/github`)).body).toEqual(put.body);
    const list = await call('GET', `/tenants/${tenant}/credentials`);
    expect(list.body.credentials.map((c: { integration: string }) => c.integration).sort()).toEqual([
      'anthropic',
      'github',
    ]);

    const del = await call('DELETE', `/tenants/${tenant}/credentials/github`);
    // An oauth2 integration without a revocationUrl: deleted, and the answer says it was not revoked.
    expect([del.status, del.body]).toEqual([
      200,
      { deleted: true, revoked: false, reason: 'no_revocation_url' },
    ]);
    const gone = await call('GET', `/tenants/${tenant}/credentials/github`);
    expect([gone.status, gone.code]).toEqual([404, 'credential_not_found']);
    expect((await call('DELETE', `/tenants/${tenant}/credentials/github`)).status).toBe(404);
  });

  it('names every bad field in one 400', async () => {
    const schema = await call('PUT', `/tenants/${tenant}/credentials/github`, {
      accessToken: 42,
      expiresIn: -1,
      scopes: 'repo',
      extra: CANARIES[0],
    });
    expect([schema.status, schema.code]).toEqual([400, 'validation_failed']);
    for (const field of ['accessToken', 'expiresIn', 'scopes', 'extra']) {
      expect(schema.body.error.message).toContain(`${field} `);
    }
    expect(schema.body.error.message).not.toContain('body.');
    const wrongKind = await call('PUT', `/tenants/${tenant}/credentials/github`, { apiKey: CANARIES[2] });
    expect(wrongKind.status).toBe(400);
    expect(wrongKind.body.error.details).toEqual([
      'body.apiKey: not allowed for an oauth2 integration',
      'body.accessToken: required for an OAuth integration',
    ]);
    const tokensForKey = await call('PUT', `/tenants/${tenant}/credentials/anthropic`, {
      accessToken: CANARIES[0],
      refreshToken: CANARIES[1],
    });
    expect(tokensForKey.body.error.details).toEqual([
      'body.accessToken: not allowed for an api_key integration',
      'body.refreshToken: not allowed for an api_key integration',
      'body.apiKey: required for an api_key integration',
    ]);
    const unknown = await call('PUT', `/tenants/${tenant}/credentials/nope`, { apiKey: 'k' });
    expect([unknown.status, unknown.code]).toEqual([404, 'unknown_integration']);
  });

  it('rejects bad names with 400 invalid_name', async () => {
    // (fetch itself resolves a bare %2E%2E segment, so traversal is sent encoded with a slash.)
    const bad = ['..%2Fx', '%2E%2E%2Fx', 'a%2Fb', 'A', 'a'.repeat(64), '%20a'];
    for (const name of bad) {
      const asTenant = await call('GET', `/tenants/${name}/credentials/github`);
      expect([name, asTenant.status, asTenant.code]).toEqual([name, 400, 'invalid_name']);
      const asIntegration = await call('PUT', `/tenants/${tenant}/credentials/${name}`, { apiKey: 'k' });
      expect([name, asIntegration.status, asIntegration.code]).toEqual([name, 400, 'invalid_name']);
    }
    const empty = await call('GET', '/tenants//credentials');
    expect([empty.status, empty.code]).toEqual([400, 'invalid_name']);
  });
});
