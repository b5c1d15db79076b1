import { afterAll, beforeAll, describe, expect, it, inject } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

// Issue 8.7: values Node refuses to send in a header were stored (200), and every later
// proxied request failed as 502 upstream_unreachable with no log line.
const tenant = uniqueTenant('uninjectable');
const BAD = ['a\r\nx-evil: 1', 'a\nb', 'a\u0000b', 'a\u007fb', 'cl\u00e9-\u20ac', 'lone-\ud800'];

describe('values that cannot be injected are accepted', () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  const vault = vaultAdmin(inject('vault'));

  beforeAll(async () => {
    upstream = await startUpstream();
    keygate = await startProxyKeygate(`
integrations:
  hdr:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
  oauth:
    baseUrl: ${upstream.origin}
    auth: { type: oauth2, tokenUrl: ${upstream.origin}/token, clientId: c }
  query:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
    inject: { query: key }
`);
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  it.each(BAD)('refuses %j at PUT with 400 validation_failed and stores nothing', async (value) => {
    for (const [integration, body] of [
      ['hdr', { apiKey: value }],
      ['oauth', { accessToken: value }],
    ] as const) {
      const res = await keygate.admin('PUT', `/v1/tenants/${tenant}/credentials/${integration}`, body);
      expect(res.status).toBe(400);
      expect(res.headers.get('x-keygate-error')).toBe('validation_failed');
      const json = (await res.json()) as { error: { details: string[] } };
      expect(json.error.details.join(' ')).toMatch(/body\.(apiKey|accessToken)/);
      const stored = await vault('GET', `secret/data/keygate/credentials/${tenant}/${integration}`);
      expect(stored.status).toBe(404);
    }
  });

  it('accepts any well-formed string for a query parameter (it is percent-encoded)', async () => {
    await keygate.putCredential(tenant, 'query', { apiKey: 'cl\u00e9 \u20ac&=' });
    const res = await keygate.admin('PUT', `/v1/tenants/${tenant}/credentials/query`, {
      apiKey: 'lone-\ud800',
    });
    expect(res.status).toBe(400);
  });

  it('answers a stored value undici refuses with a logged internal_error, not upstream_unreachable', async () => {
    // As a record stored before this check existed would be: written behind the API's back.
    await keygate.store.put(credentialRef(tenant, 'hdr'), {
      authType: 'api_key',
      secret: { apiKey: 'a\r\nb' },
      expiresAt: null,
    });
    const { key } = await keygate.createKey({ tenants: [tenant] });
    const res = await fetch(`${keygate.url}/proxy/${tenant}/hdr/x`, { headers: { 'x-api-key': key } });
    expect(res.status).toBe(500);
    expect(res.headers.get('x-keygate-error')).toBe('internal_error');
    const requestId = res.headers.get('x-request-id');
    const line = keygate.lines.find((l) => l.includes('"level":"error"') && l.includes(String(requestId)));
    expect(line).toBeDefined();
    expect(line).not.toContain('a\\r\\nb');
  });
});
