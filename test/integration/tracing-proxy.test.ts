import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import {
  SPAN_KIND,
  startOtlpReceiver,
  type OtlpReceiver,
  type ReceivedSpan,
} from '../support/otlp-receiver.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

const CALLER_TRACE = '0af7651916cd43dd8448eb211c80319c';
const CALLER_SPAN = 'b7ad6b7169203331';
const API_KEY = 'sk-traced-query-canary-5e6f7a8b';

/**
 * The proxy's spans (issue 22, through the pipeline of issue 25): a SERVER span per proxied
 * request continuing the caller's traceparent, a CLIENT span per upstream attempt whose
 * traceparent the upstream receives, and the refresh a 401 waited on inside the request's
 * trace. No secret, query string or header value in any of them.
 */
describe('proxied requests traced over OTLP', () => {
  let collector: OtlpReceiver;
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  const tenant = uniqueTenant('traced-proxy');

  beforeAll(async () => {
    collector = await startOtlpReceiver();
    provider = await startOAuthProvider();
    upstream = await startUpstream((req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const byQuery = new URL(req.url, 'http://x').searchParams.get('key');
      if (byQuery !== API_KEY && (token === undefined || !provider.isValidAccessToken(token))) {
        res.writeHead(401).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}');
    });
    keygate = await startProxyKeygate(`telemetry:
  otlp: { endpoint: ${collector.url}, exportDelayMs: 50 }
integrations:
  gh:
    baseUrl: ${upstream.origin}/api
    auth: { type: oauth2, tokenUrl: ${provider.tokenUrl}, clientId: ${provider.clientId}, clientSecret: ${provider.clientSecret} }
  maps:
    baseUrl: ${upstream.origin}/maps
    auth: { type: api_key }
    inject: { query: key }
`);
    const pair = provider.issue(tenant);
    // A stale access token: the first attempt meets a 401, the refresh, then the replay.
    await keygate.putCredential(tenant, 'gh', {
      accessToken: 'stale-access-token',
      refreshToken: pair.refreshToken,
      expiresIn: 3600,
    });
    await keygate.putCredential(tenant, 'maps', { apiKey: API_KEY });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await Promise.all([provider?.stop(), upstream?.stop(), collector?.stop()]);
  });

  it('continues the caller’s trace, and passes a new traceparent upstream from each attempt’s span', async () => {
    const before = upstream.received.length;
    const res = await fetch(`${keygate.url}/proxy/${tenant}/gh/repos?per_page=1`, {
      headers: { authorization: `Bearer ${key}`, traceparent: `00-${CALLER_TRACE}-${CALLER_SPAN}-01` },
    });
    expect(res.status).toBe(200);
    const server = await waitFor('the server span', () =>
      collector.spans.find((s) => s.kind === SPAN_KIND.server && s.traceId === CALLER_TRACE),
    );
    expect(server.parentSpanId).toBe(CALLER_SPAN);
    expect(server.name).toBe('GET /proxy/{tenant}/{integration}/{path}');
    expect(server.attributes).toMatchObject({
      'http.request.method': 'GET',
      'http.route': '/proxy/{tenant}/{integration}/{path}',
      'url.path': `/proxy/${tenant}/gh/repos`,
      'http.response.status_code': 200,
      'keygate.tenant': tenant,
      'keygate.integration': 'gh',
      'keygate.account': 'default',
    });
    const children = await waitFor('the attempts and the refresh', () => {
      const found = collector.childrenOf(server);
      return found.filter((s) => s.kind === SPAN_KIND.client && s.name === 'GET').length === 2 &&
        found.some((s) => s.name === 'keygate.refresh')
        ? found
        : undefined;
    });
    const attempts = children.filter((s) => s.kind === SPAN_KIND.client && s.name === 'GET');
    expect(attempts.map((s) => s.attributes['http.response.status_code'])).toEqual([401, 200]);
    expect(attempts[1]?.attributes).toMatchObject({
      'url.full': `${upstream.origin}/api/repos`,
      'http.request.resend_count': 1,
    });
    // The upstream saw each attempt's own traceparent, in the caller's trace, never the caller's span.
    const sent = upstream.received.slice(before).map((r) => r.headers.traceparent as string);
    expect(sent).toEqual(attempts.map((s) => `00-${CALLER_TRACE}-${s.spanId}-01`));
    const refresh = children.find((s) => s.name === 'keygate.refresh') as ReceivedSpan;
    expect(collector.childrenOf(refresh).some((s) => s.attributes['url.full'] === provider.tokenUrl)).toBe(
      true,
    );
  });

  it('keeps the injected key, the query and every token out of the spans', async () => {
    const res = await fetch(`${keygate.url}/proxy/${tenant}/maps/geocode?q=secret-place&z=1`, {
      headers: { 'x-api-key': key },
    });
    expect(res.status).toBe(200);
    const server = await waitFor('the maps span', () =>
      collector.spans.find(
        (s) => s.kind === SPAN_KIND.server && s.attributes['keygate.integration'] === 'maps',
      ),
    );
    expect(server.attributes['url.path']).toBe(`/proxy/${tenant}/maps/geocode`);
    const attempt = await waitFor('its attempt', () =>
      collector.childrenOf(server).find((s) => s.kind === SPAN_KIND.client),
    );
    expect(attempt.attributes['url.full']).toBe(`${upstream.origin}/maps/geocode`);
    await keygate.telemetry.flush();
    const everything = collector.bodies.join('\n');
    for (const canary of [
      API_KEY,
      'secret-place',
      key,
      key.split('.')[1] as string,
      ...provider.issuedTokens(),
    ]) {
      expect(everything).not.toContain(canary);
    }
  });
});
