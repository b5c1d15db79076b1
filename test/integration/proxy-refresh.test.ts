import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

const CONCURRENT = 20;

describe('upstream 401: refresh once, replay', () => {
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  // Stale requests are held until this many arrived, so every one of them meets a 401 first.
  let staleBarrier = 0;
  let releaseStale: () => void = () => {};
  let staleArrived: Promise<void> = Promise.resolve();

  beforeAll(async () => {
    provider = await startOAuthProvider();
    upstream = await startUpstream(async (req, res) => {
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (!provider.isValidAccessToken(token)) {
        staleBarrier -= 1;
        if (staleBarrier === 0) releaseStale();
        await staleArrived;
        res.writeHead(401, {
          'content-type': 'application/json',
          'www-authenticate': 'Bearer error="invalid_token"',
        });
        res.end('{"message":"Bad credentials"}');
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ echoed: req.body.toString() }));
    });
    keygate = await startProxyKeygate(`
proxy: { maxReplayBodyBytes: 1024 }
integrations:
  gh:
    baseUrl: ${upstream.origin}
    auth: { type: oauth2, tokenUrl: ${provider.tokenUrl}, clientId: ${provider.clientId}, clientSecret: ${provider.clientSecret} }
  plain:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
`);
    ({ key } = await keygate.createKey({ tenants: ['*'] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
    await provider?.stop();
  });

  const expectStale = (n: number) => {
    staleBarrier = n;
    staleArrived = new Promise<void>((resolve) => (releaseStale = resolve));
  };

  it(`${CONCURRENT} concurrent requests with a stale token: one refresh, all replayed with their bodies`, async () => {
    const tenant = uniqueTenant('refresh');
    const pair = provider.issue(tenant);
    await keygate.putCredential(tenant, 'gh', {
      accessToken: 'stale-access-token',
      refreshToken: pair.refreshToken,
      expiresIn: 3600,
    });
    expectStale(CONCURRENT);
    const before = provider.counts.requests;
    const answers = await Promise.all(
      Array.from({ length: CONCURRENT }, async (_, i) => {
        const body = JSON.stringify({ n: i, text: `body number ${i} ${'x'.repeat(i * 10)}` });
        const res = await fetch(`${keygate.url}/proxy/${tenant}/gh/repos/issues`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
          body,
        });
        return { status: res.status, json: (await res.json()) as { echoed?: string }, body };
      }),
    );
    expect(provider.counts.requests - before).toBe(1);
    expect(provider.counts.refreshes).toBeGreaterThanOrEqual(1);
    for (const answer of answers) {
      expect(answer.status).toBe(200);
      expect(answer.json.echoed).toBe(answer.body);
    }
    const stale = upstream.received.filter((r) => r.headers.authorization === 'Bearer stale-access-token');
    expect(stale).toHaveLength(CONCURRENT);
    const audit = await waitFor('every audit line', () => {
      const lines = keygate.lines
        .map((l) => JSON.parse(l))
        .filter((e) => e.event === 'proxy_request' && e.tenant === tenant);
      return lines.length === CONCURRENT && lines;
    });
    expect(audit.every((e) => e.attempts === 2 && e.status === 200)).toBe(true);
  });

  it('an access token already expired is refreshed before the request, not after a 401', async () => {
    const tenant = uniqueTenant('refresh-expired');
    const pair = provider.issue(tenant);
    await keygate.putCredential(tenant, 'gh', {
      accessToken: 'expired-access-token',
      refreshToken: pair.refreshToken,
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    const before = upstream.received.length;
    const big = 'z'.repeat(4096); // over maxReplayBodyBytes: only a first-time success will do
    const res = await fetch(`${keygate.url}/proxy/${tenant}/gh/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
      body: big,
    });
    expect(res.status).toBe(200);
    const sent = upstream.received.slice(before);
    expect(sent).toHaveLength(1);
    expect(sent[0]?.headers.authorization).toBe(`Bearer ${provider.current(tenant)?.accessToken}`);
  });

  it('a refresh that fails permanently answers 401 credential_refresh_failed and marks the credential', async () => {
    const tenant = uniqueTenant('refresh-fail');
    await keygate.putCredential(tenant, 'gh', {
      accessToken: 'stale-2',
      refreshToken: 'revoked-refresh-token',
      expiresIn: 3600,
    });
    expectStale(1);
    const res = await fetch(`${keygate.url}/proxy/${tenant}/gh/user`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-keygate-error')).toBe('credential_refresh_failed');
    const meta = await keygate.admin('GET', `/v1/tenants/${tenant}/credentials/gh`);
    expect(((await meta.json()) as { status: string }).status).toBe('needs_reauth');
  });

  it('an API-key credential that gets 401 is passed through, not retried', async () => {
    const tenant = uniqueTenant('refresh-apikey');
    await keygate.putCredential(tenant, 'plain', { apiKey: 'not-valid-anywhere' });
    expectStale(1);
    const before = upstream.received.length;
    const res = await fetch(`${keygate.url}/proxy/${tenant}/plain/user`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('x-keygate-error')).toBeNull();
    expect(await res.text()).toBe('{"message":"Bad credentials"}');
    expect(upstream.received.length - before).toBe(1);
  });

  it('a body over maxReplayBodyBytes streams once and its 401 is passed through', async () => {
    const tenant = uniqueTenant('refresh-big');
    const pair = provider.issue(tenant);
    await keygate.putCredential(tenant, 'gh', {
      accessToken: 'stale-3',
      refreshToken: pair.refreshToken,
      expiresIn: 3600,
    });
    expectStale(1);
    const before = upstream.received.length;
    const big = 'y'.repeat(4096);
    const res = await fetch(`${keygate.url}/proxy/${tenant}/gh/upload`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'text/plain' },
      body: big,
    });
    expect(res.status).toBe(401);
    expect(upstream.received.length - before).toBe(1);
    expect(upstream.received.at(-1)?.body.toString()).toBe(big);
  });
});
