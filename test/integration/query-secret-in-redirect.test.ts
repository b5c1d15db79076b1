import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { rawExchange } from '../support/raw-socket.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';

// Issue 8.1: an upstream that answers a missing trailing slash with a redirect echoing
// the query (nginx, Django, express.static) handed the caller the injected `key=`.
const tenant = uniqueTenant('redirect');
const SECRET = 'canary-query-key/9f8e+7d6c=5b4a'; // '/', '+' and '=' make every encoding differ
const BASIC_SECRET = 'canary-basic-key-1a2b3c4d5e';

function variants(secret: string): string[] {
  const encoded = encodeURIComponent(secret);
  return [
    secret,
    encoded,
    encoded.toLowerCase(),
    Buffer.from(secret).toString('base64').replace(/=+$/, ''),
    Buffer.from(secret).toString('base64url'),
    Buffer.from(`${secret}:`).toString('base64').replace(/=+$/, ''),
  ];
}

describe('query-injected secret returned in a redirect', () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      const query = req.url.includes('?') ? req.url.slice(req.url.indexOf('?')) : '';
      const path = req.url.split('?')[0] ?? '/';
      const auth = req.headers.authorization ?? '';
      res.writeHead(301, {
        location: `${path}/${query}`,
        'content-location': `http://127.0.0.1/elsewhere${query}#frag`,
        link: `<${path}/${query}>; rel="canonical", <https://x.example/a?b=1>; rel="next"`,
        refresh: `0; url=${path}/${query}`,
        // Upstreams that echo what they got, in the forms a secret can take.
        'x-echo-raw': `got ${decodeURIComponent(query)}`,
        'x-echo-encoded': `got ${query}`,
        'x-echo-auth': auth,
        'set-cookie': ['plain=1', `echo=${query.slice(1)}`],
        'x-kept': 'yes',
      });
      res.end();
    });
    keygate = await startProxyKeygate(`
integrations:
  maps:
    baseUrl: ${upstream.origin}/api
    auth: { type: api_key }
    inject: { query: key }
  basic:
    baseUrl: ${upstream.origin}/basic
    auth: { type: api_key }
    inject: { basic: { username: "{token}" } }
`);
    await keygate.putCredential(tenant, 'maps', { apiKey: SECRET });
    await keygate.putCredential(tenant, 'basic', { apiKey: BASIC_SECRET });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  const get = (target: string) =>
    rawExchange(
      keygate.url,
      `GET ${target} HTTP/1.1\r\nhost: x\r\nx-api-key: ${key}\r\nconnection: close\r\n\r\n`,
    );

  it('strips the injected parameter from Location, Content-Location, Link and Refresh', async () => {
    const res = await get(`/proxy/${tenant}/maps/dir?q=1&key=callers-own`);
    expect(res.status).toBe(301);
    expect(upstream.received.at(-1)?.url).toBe(`/api/dir?q=1&key=${encodeURIComponent(SECRET)}`);
    expect(res.headers['location']).toBe('/api/dir/?q=1');
    expect(res.headers['content-location']).toBe('http://127.0.0.1/elsewhere?q=1#frag');
    expect(res.headers['link']).toBe(
      '</api/dir/?q=1>; rel="canonical", <https://x.example/a?b=1>; rel="next"',
    );
    expect(res.headers['refresh']).toBe('0; url=/api/dir/?q=1');
    expect(res.headers['x-kept']).toBe('yes');
    expect(res.headers['set-cookie']).toBe('plain=1');
    // Headers that still hold the secret after that are dropped whole.
    expect(res.headers['x-echo-raw']).toBeUndefined();
    expect(res.headers['x-echo-encoded']).toBeUndefined();
    const returned = JSON.stringify(res);
    for (const v of variants(SECRET)) expect(returned).not.toContain(v);
  });

  it('drops the query from a redirect target that had only the injected parameter', async () => {
    const res = await get(`/proxy/${tenant}/maps/dir`);
    expect(res.headers['location']).toBe('/api/dir/');
  });

  it('never returns a Basic credential in any encoding', async () => {
    const res = await get(`/proxy/${tenant}/basic/dir`);
    expect(res.status).toBe(301);
    expect(upstream.received.at(-1)?.headers.authorization).toMatch(/^Basic /);
    expect(res.headers['x-echo-auth']).toBeUndefined();
    expect(res.headers['x-kept']).toBe('yes');
    const returned = JSON.stringify(res);
    for (const v of variants(BASIC_SECRET)) expect(returned).not.toContain(v);
  });
});
