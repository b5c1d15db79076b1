import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { rawRequest } from '../support/raw-http.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

const tenant = uniqueTenant('canary');
const API_KEY = 'canary-api-key-7f3e9a1b2c';
const STALE = 'canary-stale-access-9d8c7b';

describe('canary secrets', () => {
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  const seen: string[] = []; // every header and body Keygate returned

  beforeAll(async () => {
    provider = await startOAuthProvider();
    upstream = await startUpstream((req, res) => {
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      if (req.url.startsWith('/oauth') && !provider.isValidAccessToken(bearer)) {
        res.writeHead(401, { 'content-type': 'application/json' });
        res.end('{"error":"invalid_token"}');
        return;
      }
      if (req.url.includes('ratelimit')) {
        res.writeHead(429, { 'retry-after': '999' });
        res.end('slow down');
        return;
      }
      // An ordinary answer that names what it got, except the credential itself.
      res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
      res.end(JSON.stringify({ url: req.url.split('?')[0], method: req.method, length: req.body.length }));
    });
    keygate = await startProxyKeygate(`
proxy: { maxRetryAfterSeconds: 1 }
integrations:
  oauth:
    baseUrl: ${upstream.origin}/oauth
    auth: { type: oauth2, tokenUrl: ${provider.tokenUrl}, clientId: ${provider.clientId}, clientSecret: ${provider.clientSecret} }
  key:
    baseUrl: ${upstream.origin}/key
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
  closed:
    baseUrl: http://127.0.0.1:9
    auth: { type: api_key }
`);
    const pair = provider.issue(tenant);
    await keygate.putCredential(tenant, 'oauth', {
      accessToken: STALE,
      refreshToken: pair.refreshToken,
      expiresIn: 3600,
    });
    await keygate.putCredential(tenant, 'key', { apiKey: API_KEY });
    await keygate.putCredential(tenant, 'closed', { apiKey: API_KEY });
    ({ key } = await keygate.createKey({ tenants: [tenant], integrations: ['oauth', 'key', 'closed'] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
    await provider?.stop();
  });

  it('appear in no log line, no body and no header returned to the caller', async () => {
    const auth = { authorization: `Bearer ${key}` };
    const calls: Array<[string, string, Record<string, string>, string?]> = [
      ['GET', `/proxy/${tenant}/oauth/user?token=${STALE}`, auth], // 401 -> refresh -> replay
      ['POST', `/proxy/${tenant}/oauth/items`, { ...auth, 'content-type': 'application/json' }, '{"a":1}'],
      ['GET', `/proxy/${tenant}/key/models`, { 'x-api-key': key }],
      ['GET', `/proxy/${tenant}/key/ratelimit`, { 'x-api-key': key }],
      ['GET', `/proxy/${tenant}/key/%2e%2e/x`, { 'x-api-key': key }],
      ['GET', `/proxy/${tenant}/closed/x`, { 'x-api-key': key }],
      ['GET', `/proxy/${tenant}/oauth/x`, { authorization: `Bearer ${key}x` }],
      ['GET', `/proxy/other-${tenant}/oauth/x`, auth],
      ['GET', `/proxy/${tenant}/unknown/x`, auth],
    ];
    const statuses: number[] = [];
    for (const [method, target, headers, body] of calls) {
      const res = await rawRequest(keygate.url, target, { method, headers, ...(body ? { body } : {}) });
      statuses.push(res.status);
      seen.push(JSON.stringify(res.headers), res.body);
    }
    expect(statuses).toEqual([200, 200, 200, 429, 400, 502, 401, 403, 403]); // the key is not scoped to "unknown"
    expect(provider.counts.refreshes).toBe(1);

    const secrets = [
      API_KEY,
      STALE,
      key,
      key.split('.')[1] as string,
      provider.clientSecret,
      ...provider.issuedTokens(),
    ];
    // Audit lines are written when each connection is done; wait for all of them first.
    await waitFor(
      'every audit line',
      () => keygate.lines.filter((l) => l.includes('"event":"proxy_request"')).length >= calls.length,
    );
    const log = keygate.lines.join('\n');
    const returned = seen.join('\n');
    for (const secret of secrets) {
      expect(log, 'log').not.toContain(secret);
      expect(returned, 'response').not.toContain(secret);
    }
    expect(keygate.lines.filter((l) => l.includes('"event":"proxy_request"')).length).toBeGreaterThanOrEqual(
      calls.length,
    );
  });
});
