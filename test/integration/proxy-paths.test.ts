import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CRAFTED_PATHS } from '../support/crafted-paths.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { rawRequest } from '../support/raw-http.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';

const tenant = uniqueTenant('paths');

describe('the upstream URL is always baseUrl + path', () => {
  let upstream: FakeUpstream;
  let elsewhere: FakeUpstream; // a second origin on loopback that must never be reached
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;

  beforeAll(async () => {
    upstream = await startUpstream();
    elsewhere = await startUpstream();
    keygate = await startProxyKeygate(`
integrations:
  api:
    baseUrl: ${upstream.origin}/base/v1
    auth: { type: api_key }
`);
    await keygate.putCredential(tenant, 'api', { apiKey: 'path-test-key' });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
    await elsewhere?.stop();
  });

  const elsewhereHost = () => new URL(elsewhere.origin).host;
  const targets = () => [
    ...CRAFTED_PATHS,
    `/http://${elsewhereHost()}/x`,
    `//${elsewhereHost()}/x`,
    `/%2f%2f${elsewhereHost()}/x`,
    `/@${elsewhereHost()}/x`,
    `/..%5c..%5c${elsewhereHost()}`,
  ];

  it('refuses or contains every crafted path; the other origin is never hit', async () => {
    const craft = targets();
    expect(craft.length).toBeGreaterThanOrEqual(15);
    for (const path of craft) {
      const res = await rawRequest(keygate.url, `/proxy/${tenant}/api${path}`, {
        headers: { authorization: `Bearer ${key}`, host: elsewhereHost() },
      });
      if (res.status === 200) {
        // Accepted only when it stays a plain path under the base.
        const got = upstream.received.at(-1)!;
        expect(got.url.startsWith('/base/v1/'), path).toBe(true);
        expect(decodeURIComponent(got.url).split('/').includes('..'), path).toBe(false);
      } else {
        expect([400, 404], `${path} -> ${res.status}`).toContain(res.status);
      }
    }
    expect(elsewhere.received).toHaveLength(0);
    for (const got of upstream.received) {
      expect(got.url.startsWith('/base/v1/') || got.url === '/base/v1', got.url).toBe(true);
    }
  });

  it('answers invalid_path for dot segments in any encoding', async () => {
    for (const path of ['/%2e%2e/admin', '/a/../../admin', '/%252e%252e/x']) {
      const res = await rawRequest(keygate.url, `/proxy/${tenant}/api${path}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status, path).toBe(400);
      expect(res.headers['x-keygate-error'], path).toBe('invalid_path');
    }
  });

  it('passes ordinary paths and queries through exactly', async () => {
    for (const [path, expected] of [
      ['/repos/a%20b/issues?state=open&x=%2F', '/base/v1/repos/a%20b/issues?state=open&x=%2F'],
      ['', '/base/v1'],
      ['/', '/base/v1/'],
      ['/files/report...v2', '/base/v1/files/report...v2'],
    ] as const) {
      const res = await rawRequest(keygate.url, `/proxy/${tenant}/api${path}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status, path).toBe(200);
      expect(upstream.received.at(-1)?.url).toBe(expected);
    }
  });

  it('refuses tenant names that are not names', async () => {
    const res = await rawRequest(keygate.url, `/proxy/%2e%2e/api/x`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(400);
    expect(res.headers['x-keygate-error']).toBe('invalid_name');
  });
});
