import { request, type IncomingMessage, type ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

const tenant = uniqueTenant('sse');

describe('streaming', () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  let open: ServerResponse | undefined;
  let upstreamClosed = false;
  let upstreamEnded = false;

  beforeAll(async () => {
    upstream = await startUpstream((req, res) => {
      open = res;
      upstreamClosed = false;
      upstreamEnded = false;
      res.on('close', () => (upstreamClosed = true));
      if (req.url.startsWith('/never')) return; // holds the request without answering
      res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
      res.write('event: message_start\ndata: {"n":1}\n\n');
    });
    keygate = await startProxyKeygate(`
integrations:
  llm:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
`);
    await keygate.putCredential(tenant, 'llm', { apiKey: 'sse-key' });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  it('delivers the first event while the upstream still holds the stream open', async () => {
    const res = await fetch(`${keygate.url}/proxy/${tenant}/llm/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': key, 'content-type': 'application/json' },
      body: '{"stream":true}',
    });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('text/event-stream');
    const reader = res.body!.getReader();
    const first = new TextDecoder().decode((await reader.read()).value);
    expect(first).toContain('event: message_start');
    expect(upstreamEnded).toBe(false);
    expect(open?.writableEnded).toBe(false);
    upstreamEnded = true;
    open!.end('event: message_stop\ndata: {}\n\n');
    let rest = '';
    for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) {
      rest += new TextDecoder().decode(chunk.value);
    }
    expect(rest).toContain('event: message_stop');
  });

  // node:http with its own socket: destroying the request is a caller hanging up.
  const openRequest = (path: string) => {
    const { hostname, port } = new URL(keygate.url);
    const req = request({
      host: hostname,
      port,
      path: `/proxy/${tenant}/llm${path}`,
      headers: { 'x-api-key': key },
      agent: false,
    });
    req.on('error', () => {});
    req.end();
    return req;
  };

  it('aborts the upstream request when the caller disconnects mid-stream', async () => {
    const req = openRequest('/v1/messages');
    const res = await new Promise<IncomingMessage>((resolve) => req.once('response', resolve));
    expect(res.statusCode).toBe(200);
    await new Promise((resolve) => res.once('data', resolve));
    expect(upstreamClosed).toBe(false);
    req.destroy();
    await waitFor('the upstream to see its request closed', () => upstreamClosed);
    const audit = await waitFor('the audit line', () =>
      keygate.lines
        .map((l) => JSON.parse(l))
        .findLast((e) => e.event === 'proxy_request' && e.path === '/v1/messages' && e.method === 'GET'),
    );
    expect(audit.status).toBe(499);
  });

  it('aborts the upstream request when the caller disconnects before the answer starts', async () => {
    const req = openRequest('/never');
    await waitFor('the upstream to get the request', () => upstream.received.at(-1)?.url === '/never');
    req.destroy();
    await waitFor('the upstream to see its request closed', () => upstreamClosed);
  });
});
