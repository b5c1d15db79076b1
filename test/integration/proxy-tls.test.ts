import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { selfSignedCert, startTlsUpstream, type FakeUpstream } from '../support/upstream.ts';

const tenant = uniqueTenant('tls');

describe('TLS verification of upstreams', () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;

  beforeAll(async () => {
    const tls = selfSignedCert();
    upstream = await startTlsUpstream(tls);
    keygate = await startProxyKeygate(`
integrations:
  untrusted:
    baseUrl: ${upstream.origin}/untrusted
    auth: { type: api_key }
  trusted:
    baseUrl: ${upstream.origin}/trusted
    auth: { type: api_key }
    upstream: { caFile: ${tls.certFile} }
`);
    for (const i of ['untrusted', 'trusted'])
      await keygate.putCredential(tenant, i, { apiKey: 'tls-test-key' });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  it('refuses an upstream with a self-signed certificate', async () => {
    const res = await fetch(`${keygate.url}/proxy/${tenant}/untrusted/x`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(502);
    expect(res.headers.get('x-keygate-error')).toBe('upstream_unreachable');
    expect(((await res.json()) as { error: { message: string } }).error.message).toMatch(/TLS certificate/);
    expect(upstream.received.filter((r) => r.url.startsWith('/untrusted'))).toHaveLength(0);
  });

  it('accepts it once its CA is configured for the integration', async () => {
    const res = await fetch(`${keygate.url}/proxy/${tenant}/trusted/x`, {
      headers: { authorization: `Bearer ${key}` },
    });
    expect(res.status).toBe(200);
    expect(upstream.received.at(-1)?.url).toBe('/trusted/x');
    expect(upstream.received.at(-1)?.headers.authorization).toBe('Bearer tls-test-key');
  });
});
