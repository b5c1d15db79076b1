import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { providerIntegration } from '../support/refresh.ts';
import { connectSse, type SseClient } from '../support/sse.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';
import { jsonFetch } from '../support/http.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-refresh-operator-0123456789';
const CLIENT_SECRET = 'client-secret-canary-Vq83LmZ0';

describe('refresh for operators: GET /v1/events, POST .../refresh, GET /metrics', () => {
  let provider: OAuthProvider;
  let keygate: TestKeygate;
  const tenant = uniqueTenant('operator');
  const clients: SseClient[] = [];
  const admin = (method: string, path: string, body?: unknown) =>
    jsonFetch(`${keygate.url}${path}`, method, body, ADMIN);
  const events = async (lastEventId?: string) => {
    const client = await connectSse(`${keygate.url}/v1/events`, {
      authorization: `Bearer ${ADMIN}`,
      ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
    });
    clients.push(client);
    return client;
  };

  beforeAll(async () => {
    provider = await startOAuthProvider({ clientSecret: CLIENT_SECRET, expiresIn: 3600 });
    keygate = await startTestKeygate(
      `vault: { prefix: kgtest-${Math.random().toString(36).slice(2, 8)} }
events: { heartbeatSeconds: 0.2 }
refresh: { minBackoffMs: 20 }
integrations:
${providerIntegration('crm', provider)}`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token, KEYGATE_ADMIN_TOKEN: ADMIN },
    );
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await keygate?.close();
    await provider?.stop();
  });

  it('refuses both routes without the admin token', async () => {
    const sse = await connectSse(`${keygate.url}/v1/events`);
    expect(sse.status).toBe(401);
    const res = await fetch(`${keygate.url}/v1/tenants/${tenant}/credentials/crm/refresh`, {
      method: 'POST',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-keygate-error')).toBe('unauthorized');
  });

  it('an SSE client sees the lifecycle of one forced refresh, in order, and can resume after it', async () => {
    const pair = provider.issue('lifecycle');
    await keygate.store.put(credentialRef(tenant, 'crm'), {
      authType: 'oauth2',
      secret: pair,
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const sse = await events();
    await waitFor('the stream to open', () => sse.comments.length > 0);
    provider.inject({ status: 503 });
    const res = await admin('POST', `/v1/tenants/${tenant}/credentials/crm/refresh`);
    expect(res.status).toBe(200);
    const body = (await res.json()) as Record<string, unknown>;
    expect(body).toMatchObject({ tenant, integration: 'crm', status: 'active', authType: 'oauth2' });
    expect(body).not.toHaveProperty('secret');
    expect(JSON.stringify(body)).not.toContain(provider.current('lifecycle')?.accessToken);

    const mine = () => sse.messages.filter((m) => JSON.parse(m.data ?? '{}').tenant === tenant);
    await waitFor('three lifecycle events', () => mine().length >= 3);
    const lifecycle = mine().map((m) => ({ event: m.event, ...JSON.parse(m.data ?? '{}') }));
    expect(lifecycle.map((e) => e.event)).toEqual(['refresh-retry', 'refresh-success', 'refresh-scheduled']);
    expect(lifecycle[0]).toMatchObject({
      integration: 'crm',
      attempt: 2,
      reason: 'forced',
      error: 'http_503',
    });
    expect(lifecycle[1]).toMatchObject({ attempt: 2, reason: 'forced', persisted: true });
    expect(lifecycle[2]).toMatchObject({ attempt: 1 });
    for (const e of lifecycle) expect(typeof e.time).toBe('string');

    // Resume: a client that saw only the first event gets exactly the other two.
    const first = mine()[0]?.id as string;
    const resumed = await events(first);
    await waitFor('the replay', () => resumed.messages.length >= 2);
    expect(resumed.messages.map((m) => m.event)).toEqual(['refresh-success', 'refresh-scheduled']);
    // An id from another process life: everything still buffered, with a gap comment.
    const stranger = await events('00000000-1');
    await waitFor('the full replay', () => stranger.messages.length >= 3);
    expect(stranger.comments.some((c) => c.includes('no longer buffered'))).toBe(true);

    await waitFor('a heartbeat', () => sse.comments.includes('heartbeat'));
    for (const token of provider.issuedTokens()) {
      expect(sse.raw()).not.toContain(token);
      expect(keygate.lines.join('\n')).not.toContain(token);
    }
    expect(keygate.lines.join('\n')).not.toContain(CLIENT_SECRET);
  });

  it('follows credentials stored and deleted through the admin API at once', async () => {
    const sse = await events();
    await waitFor('the stream to open', () => sse.comments.length > 0);
    const stored = `${tenant}-stored`;
    const pair = provider.issue('stored');
    const put = await admin('PUT', `/v1/tenants/${stored}/credentials/crm`, { ...pair, expiresIn: 3600 });
    expect(put.status).toBe(200);
    const mine = () => sse.messages.filter((m) => JSON.parse(m.data ?? '{}').tenant === stored);
    await waitFor('refresh-scheduled', () => mine().length >= 1);
    const dueAt = Date.parse(JSON.parse(mine()[0]?.data ?? '{}').dueAt);
    expect(dueAt).toBeGreaterThan(Date.now() + (3600 - 300 - 60) * 1000);
    expect(dueAt).toBeLessThanOrEqual(Date.now() + (3600 - 300) * 1000);
    expect((await admin('DELETE', `/v1/tenants/${stored}/credentials/crm`)).status).toBe(200);
    await waitFor('refresh-cancelled', () => mine().length >= 4);
    expect(mine().map((m) => m.event)).toEqual([
      'refresh-scheduled',
      'credential-stored',
      'refresh-cancelled',
      'credential-deleted',
    ]);
  });

  it('answers 404 for an unknown integration or credential, 400 for a bad name', async () => {
    expect((await admin('POST', `/v1/tenants/${tenant}/credentials/nope/refresh`)).status).toBe(404);
    const missing = await admin('POST', `/v1/tenants/${tenant}-none/credentials/crm/refresh`);
    expect(missing.status).toBe(404);
    expect(missing.headers.get('x-keygate-error')).toBe('credential_not_found');
    const bad = await admin('POST', `/v1/tenants/Bad..Name/credentials/crm/refresh`);
    expect(bad.status).toBe(400);
  });

  it('a revoked family: POST answers 401 credential_refresh_failed and the credential needs re-authorisation', async () => {
    const revokedTenant = `${tenant}-revoked`;
    await keygate.store.put(credentialRef(revokedTenant, 'crm'), {
      authType: 'oauth2',
      secret: { accessToken: 'at-unknown', refreshToken: 'rt-unknown-family' },
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const res = await admin('POST', `/v1/tenants/${revokedTenant}/credentials/crm/refresh`);
    expect(res.status).toBe(401);
    expect(res.headers.get('x-keygate-error')).toBe('credential_refresh_failed');
    expect((await keygate.store.read(credentialRef(revokedTenant, 'crm'))).status).toBe('needs_reauth');
  });

  it('GET /metrics: refreshes by outcome, credentials by status, seconds until the next due refresh', async () => {
    const res = await fetch(`${keygate.url}/metrics`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('text/plain');
    const text = await res.text();
    expect(text).toMatch(/^keygate_refreshes_total\{outcome="success"\} 1$/m);
    expect(text).toMatch(/^keygate_refreshes_total\{outcome="retry"\} 1$/m);
    expect(text).toMatch(/^keygate_refreshes_total\{outcome="permanent_failure"\} 1$/m);
    expect(text).toMatch(/^keygate_credentials\{status="active"\} 1$/m);
    expect(text).toMatch(/^keygate_credentials\{status="needs_reauth"\} 1$/m);
    const due = /^keygate_refresh_next_due_seconds (\S+)$/m.exec(text);
    expect(Number(due?.[1])).toBeGreaterThan(3000);
    expect(Number(due?.[1])).toBeLessThanOrEqual(3600 - 300);
    for (const token of provider.issuedTokens()) expect(text).not.toContain(token);
  });
});
