import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { EVENT_FIELDS, type EventType } from '../../src/events/catalogue.ts';
import { connectUpToCallback, providerIntegration } from '../support/connect.ts';
import { jsonFetch } from '../support/http.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { openEventStream, type SseClient } from '../support/sse.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-events-0123456789';
const API_KEY_CANARY = 'sk-canary-events-Hq2PzX81';

describe('lifecycle events on the bus and GET /v1/events', () => {
  let provider: OAuthProvider;
  let keygate: TestKeygate;
  let sse: SseClient;
  const tenant = uniqueTenant('events');
  const admin = (method: string, path: string, body?: unknown) =>
    jsonFetch(`${keygate.url}${path}`, method, body, ADMIN);
  const received = () =>
    sse.messages.map((m) => ({ type: m.event as EventType, data: JSON.parse(m.data ?? '{}') }));
  const about = (t: string) => received().filter((e) => e.data.tenant === t || e.data.tenants?.includes(t));

  beforeAll(async () => {
    provider = await startOAuthProvider({ authMethod: 'client_secret_post' });
    keygate = await startTestKeygate(
      `
admin: { token: ${ADMIN} }
vault: { prefix: kg-events }
replica: { id: replica-a }
integrations:
${providerIntegration('crm', provider)}  anthropic: { template: anthropic }
`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
    sse = await openEventStream(keygate.url, ADMIN);
  });
  afterAll(async () => {
    sse?.close();
    const everything = [sse?.raw() ?? '', ...(keygate?.lines ?? [])].join('\n');
    for (const secret of [...(provider?.issuedTokens() ?? []), API_KEY_CANARY]) {
      expect(everything).not.toContain(secret);
    }
    await keygate?.close();
    await provider?.stop();
  });

  it('credential-stored and credential-deleted carry replica, tenant, integration, account and time', async () => {
    const t = `${tenant}-key`;
    expect(
      (await admin('PUT', `/v1/tenants/${t}/credentials/anthropic`, { apiKey: API_KEY_CANARY })).status,
    ).toBe(200);
    expect((await admin('DELETE', `/v1/tenants/${t}/credentials/anthropic`)).status).toBe(200);
    await waitFor('both events', () => about(t).length >= 2);
    const [stored, deleted] = about(t);
    expect(stored).toEqual({
      type: 'credential-stored',
      data: {
        replica: 'replica-a',
        time: expect.any(String),
        tenant: t,
        integration: 'anthropic',
        account: 'default',
        authType: 'api_key',
        status: 'active',
        expiresAt: null,
        source: 'admin',
      },
    });
    expect(deleted).toMatchObject({
      type: 'credential-deleted',
      data: {
        replica: 'replica-a',
        tenant: t,
        integration: 'anthropic',
        account: 'default',
        revocation: 'unsupported',
      },
    });
    expect(Date.parse(deleted?.data.time)).toBeGreaterThanOrEqual(Date.parse(stored?.data.time));
  });

  it('key-created and key-revoked name the key and its scope, never its secret', async () => {
    const t = `${tenant}-keys`;
    const created = await admin('POST', '/v1/keys', { name: 'ci', tenants: [t], integrations: ['crm'] });
    expect(created.status).toBe(201);
    const { id, key } = (await created.json()) as { id: string; key: string };
    expect((await admin('DELETE', `/v1/keys/${id}`)).status).toBe(204);
    await waitFor('both key events', () => about(t).length >= 2);
    const scope = { keyId: id, name: 'ci', tenants: [t], integrations: ['crm'] };
    expect(about(t)).toEqual([
      { type: 'key-created', data: { replica: 'replica-a', time: expect.any(String), ...scope } },
      { type: 'key-revoked', data: { replica: 'replica-a', time: expect.any(String), ...scope } },
    ]);
    expect(sse.raw()).not.toContain(key.split('.')[1]);
  });

  it('a completed connect flow: credential-stored (source connect) then connected', async () => {
    const t = `${tenant}-connect`;
    const callback = await fetch(await connectUpToCallback(keygate.url, ADMIN, t, 'crm'));
    expect(callback.status).toBe(200);
    await waitFor('connected', () => about(t).some((e) => e.type === 'connected'));
    const lifecycle = about(t).filter((e) => !e.type.startsWith('refresh-'));
    expect(lifecycle.map((e) => [e.type, e.data.source])).toEqual([
      ['credential-stored', 'connect'],
      ['connected', undefined],
    ]);
    expect(lifecycle[1]?.data).toMatchObject({
      tenant: t,
      integration: 'crm',
      account: 'default',
      scopes: [],
    });
  });

  it('a refresh that fails for good: refresh-failed (permanent) then needs-reauth', async () => {
    const t = `${tenant}-revoked`;
    await keygate.store.put(credentialRef(t, 'crm'), {
      authType: 'oauth2',
      secret: { accessToken: 'at-unknown', refreshToken: 'rt-unknown-family' },
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    expect((await admin('POST', `/v1/tenants/${t}/credentials/crm/refresh`)).status).toBe(401);
    await waitFor('needs-reauth', () => about(t).some((e) => e.type === 'needs-reauth'));
    const failed = about(t).filter((e) => e.type === 'refresh-failed' || e.type === 'needs-reauth');
    expect(failed).toEqual([
      { type: 'refresh-failed', data: expect.objectContaining({ permanent: true, error: 'invalid_grant' }) },
      {
        type: 'needs-reauth',
        data: {
          replica: 'replica-a',
          time: expect.any(String),
          tenant: t,
          integration: 'crm',
          account: 'default',
          reason: 'refresh_failed',
          error: 'invalid_grant',
        },
      },
    ]);
  });

  it('every event carries only its catalogued fields', () => {
    expect(received().length).toBeGreaterThan(8);
    for (const { type, data } of received()) {
      expect(EVENT_FIELDS[type]).toBeDefined();
      for (const field of Object.keys(data)) expect(EVENT_FIELDS[type]).toContain(field);
      expect(data.replica).toBe('replica-a');
    }
  });
});
