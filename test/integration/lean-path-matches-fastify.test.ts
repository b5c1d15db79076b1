import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { ADMIN_TOKEN } from '../support/proxy.ts';
import { rawRequest, type RawAnswer } from '../support/raw-http.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

const tenant = uniqueTenant('differential');
const other = uniqueTenant('differential-other');
const SECRET = 'differential-upstream-secret-4c1d';

/**
 * The lean path (src/proxy/lean-path.ts) serves proxied requests beside Fastify's router,
 * with a request and reply of its own that promise Fastify's answers. This holds it to
 * that: the same table of requests, once through the lean path and once through Fastify's
 * router, must get the same status, headers and body, so a Fastify upgrade that changes
 * what Fastify answers shows up here instead of as a silent difference between the paths.
 */
describe('the lean path answers what Fastify answers', () => {
  let upstream: FakeUpstream;
  let lean: TestKeygate;
  let routed: TestKeygate;
  let key: string;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const path = req.url.split('?')[0];
      if (path === '/empty') res.writeHead(204).end();
      else if (path === '/not-modified') res.writeHead(304, { etag: '"v1"' }).end();
      else if (path === '/cookies') {
        res.writeHead(200, { 'set-cookie': ['a=1; Path=/', 'b=2; Path=/'], 'content-type': 'text/plain' });
        res.end('two cookies');
      } else if (path === '/redirect') res.writeHead(302, { location: '/elsewhere' }).end();
      else if (path === '/events') {
        res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
        res.write('data: one\n\n');
        res.end('data: two\n\n');
      } else if (path === '/fail') res.writeHead(500, { 'content-type': 'application/json' }).end('{"e":1}');
      else if (path === '/hop') {
        res.writeHead(200, { connection: 'x-private', 'x-private': 'hop', 'x-keygate-error': 'forged' });
        res.end('hop');
      } else {
        res.writeHead(200, { 'content-type': 'application/json', 'x-upstream': 'yes' });
        res.end(JSON.stringify({ method: req.method, url: req.url, body: req.body.toString() }));
      }
    });
    const vault = inject('vault');
    const yaml = `
proxy: { maxBodyBytes: 2048, maxAttempts: 1 }
integrations:
  api:
    baseUrl: ${upstream.origin}/base
    auth: { type: api_key }
    headers: { x-default: d }
  byquery:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
    inject: { query: key }
  connectable:
    baseUrl: ${upstream.origin}
    auth: { type: oauth2, authorizationUrl: ${upstream.origin}/authorize, tokenUrl: ${upstream.origin}/token, clientId: c }
`;
    const env = { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token, KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN };
    lean = await startTestKeygate(yaml, env);
    routed = await startTestKeygate(yaml, env, { leanPath: false });
    const admin = (path: string, method: string, body: unknown) =>
      fetch(`${lean.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    for (const integration of ['api', 'byquery']) {
      expect(
        (await admin(`/v1/tenants/${tenant}/credentials/${integration}`, 'PUT', { apiKey: SECRET })).status,
      ).toBe(200);
    }
    const created = await admin('/v1/keys', 'POST', { tenants: [tenant] });
    ({ key } = (await created.json()) as { key: string });
  });
  afterAll(async () => {
    await lean?.close();
    await routed?.close();
    await upstream?.stop();
  });

  type Case = [name: string, method: string, target: string, headers?: Record<string, string>, body?: string];
  const auth = () => ({ authorization: `Bearer ${key}` });
  const cases = (): Case[] => [
    ['GET JSON', 'GET', `/proxy/${tenant}/api/things?a=1&b=%20x`, auth()],
    ['HEAD', 'HEAD', `/proxy/${tenant}/api/things`, auth()],
    ['OPTIONS', 'OPTIONS', `/proxy/${tenant}/api/things`, auth()],
    ['DELETE 204', 'DELETE', `/proxy/${tenant}/api/empty`, auth()],
    ['304', 'GET', `/proxy/${tenant}/api/not-modified`, { ...auth(), 'if-none-match': '"v1"' }],
    ['two set-cookie', 'GET', `/proxy/${tenant}/api/cookies`, auth()],
    ['redirect', 'GET', `/proxy/${tenant}/api/redirect`, auth()],
    ['event stream', 'GET', `/proxy/${tenant}/api/events`, auth()],
    ['upstream 500', 'GET', `/proxy/${tenant}/api/fail`, auth()],
    ['hop-by-hop and forged error', 'GET', `/proxy/${tenant}/api/hop`, auth()],
    [
      'POST JSON',
      'POST',
      `/proxy/${tenant}/api/echo`,
      { ...auth(), 'content-type': 'application/json' },
      '{"x":1}',
    ],
    [
      'PUT text',
      'PUT',
      `/proxy/${tenant}/api/echo`,
      { ...auth(), 'content-type': 'text/plain' },
      'plain text',
    ],
    ['PATCH no type', 'PATCH', `/proxy/${tenant}/api/echo`, auth(), 'untyped'],
    [
      '413',
      'POST',
      `/proxy/${tenant}/api/echo`,
      { ...auth(), 'content-type': 'text/plain' },
      'x'.repeat(4096),
    ],
    ['x-api-key', 'GET', `/proxy/${tenant}/api/things`, { 'x-api-key': key }],
    ['caller request id', 'GET', `/proxy/${tenant}/api/things`, { ...auth(), 'x-request-id': 'diff-1' }],
    ['query credential', 'GET', `/proxy/${tenant}/byquery/q?key=mine&z=1`, auth()],
    ['root of integration', 'GET', `/proxy/${tenant}/api`, auth()],
    ['no key', 'GET', `/proxy/${tenant}/api/things`],
    ['bad key', 'GET', `/proxy/${tenant}/api/things`, { authorization: 'Bearer kg_nope.nope' }],
    ['other tenant', 'GET', `/proxy/${other}/api/things`, auth()],
    ['unknown integration', 'GET', `/proxy/${tenant}/nosuch/things`, auth()],
    ['TRACE', 'TRACE', `/proxy/${tenant}/api/things`, auth()],
    ['bad account', 'GET', `/proxy/${tenant}/api/things`, { ...auth(), 'keygate-account': 'Not A Name' }],
    ['no such account', 'GET', `/proxy/${tenant}/api/things`, { ...auth(), 'keygate-account': 'nobody' }],
    ['path escape', 'GET', `/proxy/${tenant}/api/../../etc`, auth()],
    ['reauth problem', 'GET', `/proxy/${tenant}/connectable/x`, auth()],
    [
      'reauth MCP',
      'POST',
      `/proxy/${tenant}/connectable/mcp`,
      { ...auth(), 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      '{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"t"}}',
    ],
  ];

  // What may differ between two answers of one request: the time, and a fresh request id.
  const comparable = (answer: RawAnswer, requestIdSent: boolean, origin: string) => {
    const { date: _date, ...headers } = answer.headers;
    if (!requestIdSent) delete headers['x-request-id'];
    let body = answer.body;
    if (!requestIdSent) body = body.replace(/"requestId":"[^"]+"/g, '"requestId":"…"');
    // A connect link is the credential's one offer (shared by both callers); its code shows once per page.
    body = body.replace(/"expires_at":"[^"]+"/g, '"expires_at":"…"').replaceAll(origin, 'KEYGATE');
    const challenge = headers['www-authenticate'];
    if (typeof challenge === 'string') headers['www-authenticate'] = challenge.replaceAll(origin, 'KEYGATE');
    return { status: answer.status, headers, body };
  };

  it('gives the same status, headers and body on both paths, request by request', async () => {
    for (const [name, method, target, headers = {}, body] of cases()) {
      const options = { method, headers, ...(body === undefined ? {} : { body }) };
      const sent = 'x-request-id' in headers;
      const a = comparable(await rawRequest(lean.url, target, options), sent, lean.url);
      const b = comparable(await rawRequest(routed.url, target, options), sent, routed.url);
      expect({ name, ...a }).toEqual({ name, ...b });
    }
  });

  it('served the table on the lean path in one Keygate and through the router in the other', async () => {
    // The audit lines say which: the routed Keygate saw every request through Fastify's onRequest.
    const proxied = (k: TestKeygate) =>
      k.lines.filter((l) => (JSON.parse(l) as { event?: string }).event === 'proxy_request').length;
    await waitFor(
      'every audit line',
      () => proxied(lean) >= cases().length && proxied(routed) >= cases().length,
    );
    expect(proxied(lean)).toBe(cases().length);
    expect(proxied(routed)).toBe(cases().length);
    expect([...lean.lines, ...routed.lines].join('\n')).not.toContain(SECRET);
  });
});
