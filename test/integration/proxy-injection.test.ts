import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { rawRequest } from '../support/raw-http.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';

const tenant = uniqueTenant('inject');
const other = uniqueTenant('inject-other');
const TOKEN = 'oauth-access-token-canary-1a2b3c';
const API_KEY = 'api-key-canary-4d5e6f';

describe('credential injection', () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    const o = upstream.origin;
    keygate = await startProxyKeygate(`
integrations:
  bearer:
    baseUrl: ${o}/bearer/v1
    auth: { type: oauth2, tokenUrl: ${o}/token, clientId: c }
    headers: { accept: application/vnd.test+json, x-default: default-value }
    forceHeaders: { x-fixed: fixed-value }
  anthropic:
    template: anthropic
    baseUrl: ${o}/anthropic
  forcing:
    baseUrl: ${o}/forcing
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
    forceHeaders: { x-api-key: not-the-credential, anthropic-version: "2023-06-01" }
  named:
    baseUrl: ${o}/named
    auth: { type: api_key }
    inject: { header: X-Hume-Api-Key, format: "{token}" }
  query:
    baseUrl: ${o}/query
    auth: { type: api_key }
    inject: { query: key }
  basic:
    baseUrl: ${o}/basic
    auth: { type: api_key }
    inject: { basic: { username: "{token}", password: "" } }
  formatted:
    baseUrl: ${o}
    auth: { type: api_key }
    inject: { header: authorization, format: "Token token={token}" }
`);
    await keygate.putCredential(tenant, 'bearer', { accessToken: TOKEN, expiresIn: 3600 });
    for (const i of ['named', 'query', 'basic', 'formatted', 'anthropic', 'forcing']) {
      await keygate.putCredential(tenant, i, { apiKey: API_KEY });
    }
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  const last = () => upstream.received.at(-1)!;
  const proxy = (path: string, init: RequestInit = {}) =>
    fetch(`${keygate.url}/proxy/${tenant}${path}`, init);

  it('sends Authorization: Bearer with the default and forced headers, and never the caller key', async () => {
    const res = await proxy('/bearer/repos/x?page=2', {
      headers: {
        authorization: `Bearer ${key}`,
        'x-api-key': key,
        'proxy-authorization': `Bearer ${key}`,
        accept: 'application/json',
        'x-fixed': 'caller',
      },
    });
    expect(res.status).toBe(200);
    const got = last();
    expect(got.url).toBe('/bearer/v1/repos/x?page=2');
    expect(got.headers.authorization).toBe(`Bearer ${TOKEN}`);
    expect(got.headers.accept).toBe('application/json'); // the caller's wins over a default
    expect(got.headers['x-default']).toBe('default-value');
    expect(got.headers['x-fixed']).toBe('fixed-value'); // a forced header wins over the caller's
    expect(got.headers['x-api-key']).toBeUndefined();
    expect(got.headers['proxy-authorization']).toBeUndefined();
    expect(JSON.stringify(got.headers)).not.toContain(key);
  });

  it("sends the anthropic template's version only when the caller sends none", async () => {
    await proxy('/anthropic/v1/messages', { method: 'POST', headers: { 'x-api-key': key }, body: '{}' });
    expect(last().headers['anthropic-version']).toBe('2023-06-01');
    expect(last().headers['x-api-key']).toBe(API_KEY);
    await proxy('/anthropic/v1/messages', {
      method: 'POST',
      headers: { 'x-api-key': key, 'anthropic-version': '2099-01-01' },
      body: '{}',
    });
    expect(last().url).toBe('/anthropic/v1/messages');
    expect(last().headers['anthropic-version']).toBe('2099-01-01');
  });

  it('lets forceHeaders replace a caller header but never the injected credential', async () => {
    await proxy('/forcing/x', {
      headers: { authorization: `Bearer ${key}`, 'anthropic-version': '2099-01-01' },
    });
    expect(last().headers['anthropic-version']).toBe('2023-06-01');
    expect(last().headers['x-api-key']).toBe(API_KEY);
  });

  it('sends a named header with the raw key', async () => {
    const res = await proxy('/named/chat', {
      headers: { 'x-api-key': key, 'x-hume-api-key': 'caller-value' },
    });
    expect(res.status).toBe(200);
    expect(last().headers['x-hume-api-key']).toBe(API_KEY);
    expect(last().headers['x-api-key']).toBeUndefined();
    expect(last().headers.authorization).toBeUndefined();
  });

  it('sends a query parameter, replacing any the caller set', async () => {
    const res = await proxy('/query/geo?q=paris&key=caller&KEY=kept', {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    expect(last().url).toBe(`/query/geo?q=paris&KEY=kept&key=${API_KEY}`);
    expect(last().headers.authorization).toBeUndefined();
  });

  it('sends Basic with the key as the user name', async () => {
    const res = await proxy('/basic/v1/charges', {
      method: 'POST',
      headers: {
        'proxy-authorization': `Bearer ${key}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'amount=100&currency=eur',
    });
    expect(res.status).toBe(200);
    expect(last().headers.authorization).toBe(`Basic ${Buffer.from(`${API_KEY}:`).toString('base64')}`);
    expect(last().body.toString()).toBe('amount=100&currency=eur');
    expect(last().headers['content-type']).toBe('application/x-www-form-urlencoded');
  });

  it('sends a custom format', async () => {
    await proxy('/formatted/items', { headers: { authorization: `Bearer ${key}` } });
    expect(last().headers.authorization).toBe(`Token token=${API_KEY}`);
    expect(last().url).toBe('/items');
  });

  it('drops hop-by-hop headers both ways, and any x-keygate-* header from the upstream', async () => {
    upstream.handle((_req, res) => {
      res.writeHead(200, {
        'content-type': 'text/plain',
        connection: 'x-upstream-private',
        'x-upstream-private': 'hop',
        'keep-alive': 'timeout=5',
        'x-keygate-error': 'forged',
        'x-kept': 'yes',
      });
      res.end('ok');
    });
    try {
      const res = await rawRequest(keygate.url, `/proxy/${tenant}/bearer/hop`, {
        headers: {
          authorization: `Bearer ${key}`,
          connection: 'keep-alive, x-caller-private',
          'x-caller-private': 'hop',
          te: 'trailers',
          'x-other': 'kept',
        },
      });
      expect(res.body).toBe('ok');
      expect(res.headers['x-kept']).toBe('yes');
      expect(res.headers['x-upstream-private']).toBeUndefined();
      expect(res.headers['keep-alive']).not.toBe('timeout=5'); // Node's own keep-alive header may be there
      expect(res.headers['x-keygate-error']).toBeUndefined();
      const got = last();
      expect(got.headers['x-caller-private']).toBeUndefined();
      expect(got.headers.te).toBeUndefined();
      expect(got.headers['x-other']).toBe('kept');
    } finally {
      upstream.handle((req, res) => {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ url: req.url }));
      });
    }
  });

  it('answers 401 without a key or with a bad one, 403 out of scope, 404 for unknown things', async () => {
    const count = upstream.received.length;
    const none = await proxy('/bearer/x');
    expect(none.status).toBe(401);
    expect(none.headers.get('x-keygate-error')).toBe('unauthorized');
    const forged = await proxy('/bearer/x', { headers: { authorization: `Bearer ${key.slice(0, -4)}AAAA` } });
    expect(forged.status).toBe(401);
    // No issuers configured: the 401s still name their scheme (RFC 9110 §11.6.1).
    expect([none.headers.get('www-authenticate'), forged.headers.get('www-authenticate')]).toEqual([
      'Bearer realm="keygate"',
      'Bearer realm="keygate"',
    ]);
    const otherTenant = await fetch(`${keygate.url}/proxy/${other}/bearer/x`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(otherTenant.status).toBe(403);
    expect(otherTenant.headers.get('x-keygate-error')).toBe('forbidden');
    const scoped = await keygate.createKey({ tenants: ['*'], integrations: ['named'] });
    expect((await proxy('/bearer/x', { headers: { 'x-api-key': scoped.key } })).status).toBe(403);
    expect(
      (await fetch(`${keygate.url}/proxy/${other}/named/x`, { headers: { 'x-api-key': scoped.key } })).status,
    ).toBe(404);
    const missing = await fetch(`${keygate.url}/proxy/${other}/named/x`, {
      headers: { 'x-api-key': scoped.key },
    });
    expect(missing.headers.get('x-keygate-error')).toBe('credential_not_found');
    const unknown = await proxy('/nope/x', { headers: { authorization: `Bearer ${key}` } });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('x-keygate-error')).toBe('unknown_integration');
    expect(upstream.received.length).toBe(count);
  });

  it('stops honouring a key once it is deleted', async () => {
    const temp = await keygate.createKey({ tenants: [tenant] });
    expect((await proxy('/bearer/x', { headers: { 'x-api-key': temp.key } })).status).toBe(200);
    const del = await keygate.admin('DELETE', `/v1/keys/${temp.id}`);
    expect(del.status).toBe(204);
    expect((await proxy('/bearer/x', { headers: { 'x-api-key': temp.key } })).status).toBe(401);
    expect((await keygate.admin('DELETE', `/v1/keys/${temp.id}`)).status).toBe(404);
    expect((await fetch(`${keygate.url}/v1/keys`, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it('writes one audit line per request without query string or secrets', async () => {
    await proxy('/bearer/audited/path?secret-ish=1', { headers: { authorization: `Bearer ${key}` } });
    // The line is written when the connection is done with the request, just after the answer.
    const line = await waitFor('the audit line', () =>
      keygate.lines
        .map((l) => JSON.parse(l))
        .findLast((e) => e.event === 'proxy_request' && e.path === '/audited/path'),
    );
    expect(line).toMatchObject({
      tenant,
      integration: 'bearer',
      method: 'GET',
      path: '/audited/path',
      status: 200,
      attempts: 1,
    });
    expect(typeof line.upstreamMs).toBe('number');
    expect(typeof line.totalMs).toBe('number');
    expect(typeof line.requestId).toBe('string');
    const log = keygate.lines.join('\n');
    for (const secret of [TOKEN, API_KEY, key.split('.')[1] as string]) expect(log).not.toContain(secret);
  });

  it('counts requests, by integration, status class and who answered, on /metrics', async () => {
    await proxy('/bearer/metered', { headers: { authorization: `Bearer ${key}` } });
    await proxy('/bearer/%2e%2e/x', { headers: { authorization: `Bearer ${key}` } });
    const refused =
      /keygate_proxy_requests_total\{integration="bearer",status="4xx",source="keygate"\} [1-9]/;
    // Counted when the connection is done with the request, just after the answer.
    const text = await waitFor('the 400 to be counted', async () => {
      const body = await (await fetch(`${keygate.url}/metrics`)).text();
      return refused.test(body) && body;
    });
    expect(text).toMatch(
      /keygate_proxy_requests_total\{integration="bearer",status="2xx",source="upstream"\} [1-9]/,
    );
    expect(text).toContain('keygate_proxy_duration_seconds_bucket');
    expect(text).not.toContain(tenant);
  });
});
