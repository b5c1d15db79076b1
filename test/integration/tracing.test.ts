import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { connectUpToCallback, providerIntegration } from '../support/connect.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import {
  SPAN_KIND,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../support/otlp-receiver.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/webhook-receiver.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-tracing-0123456789abcdef';
const COLLECTOR_KEY = 'collector-api-key-canary-0123456789';
// A caller's trace: Keygate must continue it, not start its own.
const CALLER_TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';
const CALLER_SPAN = '00f067aa0ba902b7';

describe('OpenTelemetry traces exported over OTLP/HTTP', () => {
  let collector: OtlpReceiver;
  let provider: OAuthProvider;
  let hooks: WebhookReceiver;
  let keygate: TestKeygate;
  let callbackUrl: string;
  const tenant = uniqueTenant('traced');

  beforeAll(async () => {
    collector = await startOtlpReceiver();
    // Two-second tokens without skew: the connected one is due for a scheduled refresh after one.
    provider = await startOAuthProvider({ expiresIn: 2 });
    hooks = await startWebhookReceiver();
    keygate = await startTestKeygate(
      `admin: { token: ${ADMIN} }
telemetry:
  serviceName: keygate-test
  otlp: { endpoint: ${collector.url}, exportDelayMs: 50, headers: { x-collector-key: ${COLLECTOR_KEY} } }
refresh: { bufferSeconds: 300, clockSkewSeconds: 0 }
webhooks:
  - { url: ${hooks.url}, secret: ${hooks.secret} }
integrations:
${providerIntegration('acme', provider)}`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
    expect(keygate.telemetry.enabled).toBe(true);
    callbackUrl = await connectUpToCallback(keygate.url, ADMIN, tenant, 'acme');
    const done = await fetch(callbackUrl, {
      headers: { accept: 'application/json', traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    });
    expect(done.status).toBe(200);
  });
  afterAll(async () => {
    await keygate?.close();
    await Promise.all([provider?.stop(), hooks?.stop(), collector?.stop()]);
  });

  it('continues the caller’s traceparent in the connect callback’s server span, with Vault calls as children', async () => {
    const callback = await waitFor('the callback span', () =>
      collector.spans.find((s) => s.name === 'GET /oauth/callback'),
    );
    expect(callback.kind).toBe(SPAN_KIND.server);
    expect(callback.traceId).toBe(CALLER_TRACE);
    expect(callback.parentSpanId).toBe(CALLER_SPAN);
    expect(callback.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/oauth/callback',
      'url.path': '/oauth/callback',
      'http.response.status_code': 200,
      'keygate.tenant': tenant,
      'keygate.integration': 'acme',
      'keygate.account': 'default',
    });
    expect(callback.resource).toMatchObject({ 'service.name': 'keygate-test' });
    // The state read, the verifier decrypted, the code exchanged, the credential written.
    const children = await waitFor('the callback’s children', () => {
      const found = collector.childrenOf(callback);
      return found.some((s) => s.name.startsWith('POST /v1/transit/encrypt/')) && found;
    });
    const names = children.map((s) => s.name);
    expect(names).toContain('GET /v1/secret/data/{path}');
    expect(names).toContain('POST /v1/transit/decrypt/{path}');
    expect(names).toContain('POST /v1/secret/data/{path}');
    for (const child of children.filter((s) => s.name.includes('/v1/'))) {
      expect(child.kind).toBe(SPAN_KIND.client);
      expect(child.attributes['server.address']).toBe('127.0.0.1');
      // Started inside it (some, like the fleet's change record, finish after the answer).
      expect(child.startNs >= callback.startNs && child.startNs <= callback.endNs).toBe(true);
    }
  });

  it('gives each scheduled refresh a trace of its own: the token request and Vault calls inside it', async () => {
    const refresh = await waitFor(
      'a scheduled refresh span',
      () =>
        collector.spans.find(
          (s) => s.name === 'keygate.refresh' && s.attributes['keygate.refresh.reason'] === 'scheduled',
        ),
      { timeoutMs: 20_000 },
    );
    expect(refresh.parentSpanId).toBe('');
    expect(refresh.kind).toBe(SPAN_KIND.internal);
    expect(refresh.status).not.toBe(2);
    expect(refresh.attributes).toMatchObject({
      'keygate.tenant': tenant,
      'keygate.integration': 'acme',
      'keygate.account': 'default',
    });
    const children = await waitFor('the refresh’s children', () => {
      const found = collector.childrenOf(refresh);
      return found.some((s) => s.name === 'POST') && found.length >= 4 && found;
    });
    const token = children.find((s) => s.name === 'POST') as ReceivedSpan;
    expect(token.kind).toBe(SPAN_KIND.client);
    expect(token.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 200,
      'url.full': provider.tokenUrl,
      'keygate.oauth.grant_type': 'refresh_token',
    });
    // Lease read and taken, credential read and decrypted, new pair encrypted and written.
    const vaultCalls = children.filter((s) => s.name.includes(' /v1/')).map((s) => s.name);
    expect(vaultCalls).toEqual(
      expect.arrayContaining([
        'GET /v1/secret/data/{path}',
        'POST /v1/secret/data/{path}',
        'POST /v1/transit/decrypt/{path}',
        'POST /v1/transit/encrypt/{path}',
      ]),
    );
  });

  it('gives each webhook delivery a client span linked to where the event was published, and passes traceparent on', async () => {
    const delivery = await waitFor('a delivery of refresh-success', () =>
      hooks.deliveries.find((d) => d.type === 'refresh-success' && d.traceparent),
    );
    const [, traceId, spanId] = (delivery.traceparent as string).split('-');
    const span = await waitFor('its span', () => collector.spans.find((s) => s.spanId === spanId));
    expect(span.traceId).toBe(traceId);
    expect(span.kind).toBe(SPAN_KIND.client);
    expect(span.parentSpanId).toBe('');
    expect(span.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.response.status_code': 204,
      'url.full': new URL(hooks.url).origin,
      'keygate.webhook': '0',
      'keygate.event.type': 'refresh-success',
      'keygate.tenant': tenant,
    });
    // Linked to the refresh that published it (another trace).
    const [link] = span.links;
    const publisher = collector.spans.find((s) => s.spanId === link?.spanId);
    expect(publisher?.name).toBe('keygate.refresh');
    // connected and credential-stored came from the callback, which the caller's trace holds.
    const connected = await waitFor('the connected delivery span', () =>
      collector.spans.find((s) => s.attributes['keygate.event.type'] === 'connected'),
    );
    expect(connected.links[0]?.traceId).toBe(CALLER_TRACE);
  });

  it('holds no secret, query string or header value in any span, and sends the collector its headers', async () => {
    await keygate.telemetry.flush();
    expect(collector.headers.every((h) => h['x-collector-key'] === COLLECTOR_KEY)).toBe(true);
    const callback = new URL(callbackUrl);
    const canaries = [
      ...provider.issuedTokens(),
      provider.clientSecret,
      ADMIN,
      hooks.secret,
      vault.token,
      keygate.vault.client.token,
      COLLECTOR_KEY,
      callback.searchParams.get('code') as string,
      callback.searchParams.get('state') as string,
      callback.search,
    ];
    expect(canaries.every((c) => typeof c === 'string' && c.length > 8)).toBe(true);
    const everything = collector.bodies.join('\n');
    expect(everything.length).toBeGreaterThan(1000);
    for (const canary of canaries) expect(everything).not.toContain(canary);
    for (const span of collector.spans) {
      for (const [key, value] of Object.entries(span.attributes)) {
        if (typeof value !== 'string') continue;
        expect(value, key).not.toContain('?');
        // The only header-derived values are Keygate's own addresses, never a header's text.
        expect(value.toLowerCase(), key).not.toMatch(/bearer|basic |whsec_|hvs\.|s\.[a-z0-9]{20}/);
      }
    }
  });
});
