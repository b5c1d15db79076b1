import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { rawExchange } from '../support/raw-socket.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';

// Issue 8, the two decisions (docs/security.md): callers' forwarding headers are dropped,
// and /metrics takes a bearer token of its own when metrics.token is set.
const tenant = uniqueTenant('fwd');
const METRICS_TOKEN = 'metrics-token-0123456789abcdef';

describe('forwarding headers and the /metrics token', () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  beforeAll(async () => {
    upstream = await startUpstream();
    keygate = await startProxyKeygate(`
metrics: { token: ${METRICS_TOKEN} }
integrations:
  up: { baseUrl: ${upstream.origin}, auth: { type: api_key } }
`);
    await keygate.putCredential(tenant, 'up', { apiKey: 'fwd-key-0123' });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  it('drops Forwarded and X-Forwarded-* from the caller and sets none', async () => {
    const res = await rawExchange(
      keygate.url,
      `GET /proxy/${tenant}/up/x HTTP/1.1\r\nhost: x\r\nx-api-key: ${key}\r\n` +
        'forwarded: host=evil.example;proto=https\r\nx-forwarded-host: evil.example\r\n' +
        'x-forwarded-for: 203.0.113.9\r\nx-forwarded-proto: https\r\nx-real-ip: 203.0.113.9\r\n' +
        'x-kept: yes\r\nconnection: close\r\n\r\n',
    );
    expect(res.status).toBe(200);
    const sent = upstream.received.at(-1)?.headers ?? {};
    for (const name of [
      'forwarded',
      'x-forwarded-host',
      'x-forwarded-for',
      'x-forwarded-proto',
      'x-real-ip',
    ]) {
      expect(sent[name], name).toBeUndefined();
    }
    expect(sent['x-kept']).toBe('yes');
  });

  it('answers /metrics only with its token', async () => {
    const none = await fetch(`${keygate.url}/metrics`);
    expect(none.status).toBe(401);
    expect(none.headers.get('x-keygate-error')).toBe('unauthorized');
    const wrong = await fetch(`${keygate.url}/metrics`, { headers: { authorization: `Bearer ${key}` } });
    expect(wrong.status).toBe(401);
    const right = await fetch(`${keygate.url}/metrics`, {
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    expect(right.status).toBe(200);
    expect(await right.text()).toContain('keygate_auth_failures_total');
  });
});
