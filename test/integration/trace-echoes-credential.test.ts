import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { rawExchange } from '../support/raw-socket.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

// Issue 8.2: an upstream that honours TRACE echoes the request back, injected header included.
const tenant = uniqueTenant('trace');
const SECRET = 'canary-trace-key-0a9b8c7d';

describe('TRACE forwarded with the credential injected', () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'message/http' });
      res.end(`${req.method} ${req.url} HTTP/1.1\r\n${JSON.stringify(req.headers)}`);
    });
    keygate = await startProxyKeygate(`
integrations:
  echo:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
`);
    await keygate.putCredential(tenant, 'echo', { apiKey: SECRET });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  it.each(['TRACE', 'TRACK'])('refuses %s with 405 and never sends it upstream', async (method) => {
    const before = upstream.received.length;
    const res = await rawExchange(
      keygate.url,
      `${method} /proxy/${tenant}/echo/x HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${key}\r\n\r\n`,
    );
    expect(res.status).toBe(405);
    expect(res.headers['x-keygate-error']).toBe('method_not_allowed');
    expect(res.headers['allow']).toContain('GET');
    expect(res.headers['x-request-id']).toBeTruthy();
    expect(JSON.parse(res.body).error.requestId).toBe(res.headers['x-request-id']);
    expect(JSON.stringify(res)).not.toContain(SECRET);
    expect(upstream.received.length).toBe(before);
  });

  it('writes an audit line for the refused TRACE', async () => {
    await waitFor('the audit line of a TRACE', () =>
      keygate.lines.some((l) => l.includes('"method":"TRACE"') && l.includes('method_not_allowed')),
    );
  });
});
