import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consent, providerIntegration, startConnect } from '../support/connect.ts';
import { jsonFetch } from '../support/http.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { openEventStream, type SseClient } from '../support/sse.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-provider-error-0123456789';
// What a hostile or broken provider puts in `error` (and its siblings): markup and a canary.
const CANARY = 'canary-provider-text-Qm47Zt';
const HOSTILE = `<img src=x onerror=alert(document.domain)>${CANARY}`;
const hostileBody = (error: string = HOSTILE) => ({
  error,
  error_description: `<script>${CANARY}</script>`,
  error_uri: `https://evil.test/${CANARY}`,
});

/**
 * Regression (issue 24): a provider answering `{"error":"<img src=x onerror=...>..."}` to a
 * refresh had that string copied verbatim into the needs-reauth webhook, the event stream,
 * `lastRefreshError` in the inventory and the logs, which the docs call a stable code. The
 * provider's `error` is now mapped to a known OAuth error code (RFC 6749 §5.2 and the IANA
 * OAuth Extensions Error Registry) or `provider_error`; the provider's text goes nowhere.
 */
describe('provider-error-passed-through', () => {
  let provider: OAuthProvider;
  let keygate: TestKeygate;
  let receiver: WebhookReceiver;
  let events: SseClient;
  const answers: string[] = [];
  const admin = async (method: string, path: string, body?: unknown) => {
    const res = await jsonFetch(`${keygate.url}${path}`, method, body, ADMIN);
    const text = await res.text();
    answers.push(JSON.stringify([...res.headers]), text);
    return { status: res.status, code: res.headers.get('x-keygate-error'), text };
  };
  const about = (tenant: string) =>
    events.messages
      .map((m): Record<string, unknown> => ({ event: m.event, ...JSON.parse(m.data ?? '{}') }))
      .filter((e) => e['tenant'] === tenant);
  const hooks = (tenant: string) =>
    [...receiver.accepted().values()].filter((d) => d.data?.['tenant'] === tenant);

  beforeAll(async () => {
    provider = await startOAuthProvider();
    receiver = await startWebhookReceiver();
    keygate = await startTestKeygate(
      `
admin: { token: ${ADMIN} }
events: { heartbeatSeconds: 0.2, delivery: { minBackoffMs: 20, maxBackoffMs: 200 } }
refresh: { minBackoffMs: 20, retries: 2 }
webhooks:
  - { url: "${receiver.url}", secret: "${receiver.secret}" }
integrations:
${providerIntegration('crm', provider, { revocationUrl: provider.revocationUrl })}`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
    events = await openEventStream(keygate.url, ADMIN);
  });
  afterAll(async () => {
    events?.close();
    await keygate?.close();
    // Every surface: answers (the inventory's included), the event stream, webhooks, the logs.
    const everything = [
      ...answers,
      events?.raw() ?? '',
      ...(receiver?.deliveries ?? []).map((d) => d.raw),
      ...(keygate?.lines ?? []),
    ].join('\n');
    expect(everything).not.toContain(CANARY);
    expect(everything).not.toContain('onerror');
    await receiver?.stop();
    await provider?.stop();
  });

  async function storeCredential(tenant: string, family: string) {
    const pair = provider.issue(family);
    const put = await admin('PUT', `/v1/tenants/${tenant}/credentials/crm`, { ...pair, expiresIn: 3600 });
    expect(put.status).toBe(200);
  }

  it('a refresh refused with a hostile error: needs-reauth, and provider_error on every surface', async () => {
    const tenant = uniqueTenant('hostile');
    await storeCredential(tenant, `${tenant}-family`);
    provider.inject({ status: 400, body: hostileBody() });
    const refresh = await admin('POST', `/v1/tenants/${tenant}/credentials/crm/refresh`);
    expect([refresh.status, refresh.code]).toEqual([401, 'credential_refresh_failed']);

    // The event stream: refresh-failed and needs-reauth, each with the mapped code.
    await waitFor('needs-reauth on the stream', () => about(tenant).some((e) => e.event === 'needs-reauth'));
    const failed = about(tenant).find((e) => e.event === 'refresh-failed');
    expect(failed).toMatchObject({ permanent: true, error: 'provider_error' });
    expect(about(tenant).find((e) => e.event === 'needs-reauth')).toMatchObject({ error: 'provider_error' });

    // The webhook.
    await waitFor('the needs-reauth webhook', () => hooks(tenant).some((d) => d.type === 'needs-reauth'));
    expect(hooks(tenant).find((d) => d.type === 'needs-reauth')?.data).toMatchObject({
      reason: 'refresh_failed',
      error: 'provider_error',
    });

    // The inventory and the credential's own metadata.
    await waitFor('the inventory row', async () => {
      const page = await admin('GET', `/v1/credentials?tenant=${tenant}`);
      const rows = (JSON.parse(page.text) as { credentials: Array<Record<string, unknown>> }).credentials;
      return rows.length === 1 && rows[0]?.['status'] === 'needs_reauth' ? rows : undefined;
    }).then((rows) => expect(rows[0]).toMatchObject({ lastRefreshError: 'provider_error' }));
    const one = await admin('GET', `/v1/tenants/${tenant}/credentials/crm`);
    expect(JSON.parse(one.text)).toMatchObject({ status: 'needs_reauth' });

    // The logs carry the code too, and never the text.
    const lines = keygate.lines.filter((l) => l.includes(tenant));
    expect(lines.some((l) => l.includes('"error":"provider_error"'))).toBe(true);
    expect(lines.join('\n')).not.toContain(CANARY);
  });

  it('registered OAuth error codes pass as themselves; anything else is provider_error', async () => {
    for (const [sent, seen] of [
      ['invalid_grant', 'invalid_grant'],
      ['use_dpop_nonce', 'use_dpop_nonce'],
      ['invalid_target', 'invalid_target'],
      ['INVALID_GRANT', 'provider_error'],
      ['invalid_grant ', 'provider_error'],
      [`invalid_grant${CANARY}`, 'provider_error'],
      ['x'.repeat(5000), 'provider_error'],
    ] as const) {
      const tenant = uniqueTenant('codes');
      await storeCredential(tenant, `${tenant}-family`);
      provider.inject({ status: 400, body: hostileBody(sent) });
      const refresh = await admin('POST', `/v1/tenants/${tenant}/credentials/crm/refresh`);
      expect(refresh.status).toBe(401);
      await waitFor(`refresh-failed for ${sent.slice(0, 20)}`, () =>
        about(tenant).find((e) => e.event === 'refresh-failed'),
      ).then((e) => expect(e['error'], sent.slice(0, 20)).toBe(seen));
    }
  });

  it('a transient refusal (retried) names a registered code on refresh-retry, never the text', async () => {
    const tenant = uniqueTenant('retry');
    await storeCredential(tenant, `${tenant}-family`);
    provider.inject({ status: 400, body: hostileBody('temporarily_unavailable') });
    const refresh = await admin('POST', `/v1/tenants/${tenant}/credentials/crm/refresh`);
    expect(refresh.status).toBe(200);
    const retry = await waitFor('refresh-retry', () =>
      about(tenant).find((e) => e.event === 'refresh-retry'),
    );
    expect(retry['error']).toBe('temporarily_unavailable');
  });

  it('the connect callback: a hostile error from the token endpoint is a Keygate code on the page and the event', async () => {
    const tenant = uniqueTenant('connect');
    const flow = await startConnect(keygate.url, ADMIN, tenant, 'crm');
    expect(flow.status).toBe(201);
    const callback = await consent(flow.body.authorizationUrl);
    provider.inject({ status: 400, body: hostileBody() });
    const res = await fetch(callback, { redirect: 'manual', headers: { accept: 'text/html' } });
    answers.push(await res.text());
    expect([res.status, res.headers.get('x-keygate-error')]).toEqual([400, 'oauth_denied']);
    await waitFor('connect-failed', () => about(tenant).find((e) => e.event === 'connect-failed')).then((e) =>
      expect(e['error']).toBe('oauth_denied'),
    );
  });

  it('revocation at DELETE: a hostile refusal is reported as a code', async () => {
    const tenant = uniqueTenant('revoke');
    await storeCredential(tenant, `${tenant}-family`);
    provider.failRevocations(400, 1, hostileBody());
    const res = await admin('DELETE', `/v1/tenants/${tenant}/credentials/crm`);
    expect(res.status).toBe(200);
    expect(JSON.parse(res.text)).toMatchObject({ revoked: false, reason: 'provider_refused' });
    await waitFor('credential-deleted', () =>
      about(tenant).find((e) => e.event === 'credential-deleted'),
    ).then((e) => expect(e['revocation']).toBe('failed'));
  });
});
