import { afterAll, describe, expect, it } from 'vitest';
import { startProxyKeygate } from '../support/proxy.ts';
import { openRaw } from '../support/raw-socket.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

// Issue 8.11: SIGTERM waited the whole shutdownGraceMs when a keep-alive client's request
// was in flight as close began, though its answer ended long before.
const tenant = uniqueTenant('drain');

describe('shutdown with keep-alive clients', () => {
  let upstream: FakeUpstream | undefined;
  afterAll(async () => {
    await upstream?.stop();
  });

  it('answers in-flight requests with Connection: close and closes each connection as its answer ends', async () => {
    let release: () => void = () => {};
    const held = new Promise<void>((resolve) => (release = resolve));
    let arrived: () => void = () => {};
    const atUpstream = new Promise<void>((resolve) => (arrived = resolve));
    upstream = await startUpstream(async (_req, res) => {
      arrived();
      await held;
      res.end('done');
    });
    // A grace period no test would wait out: closing must not depend on it.
    const keygate = await startProxyKeygate(`
server: { host: 127.0.0.1, port: 0, shutdownGraceMs: 600000 }
integrations:
  up: { baseUrl: ${upstream.origin}, auth: { type: api_key } }
`);
    await keygate.putCredential(tenant, 'up', { apiKey: 'drain-key-0123' });
    const { key } = await keygate.createKey({ tenants: [tenant] });
    const busy = await openRaw(keygate.url);
    const idle = await openRaw(keygate.url);
    idle.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
    expect((await idle.response()).headers['connection']).toBe('keep-alive');
    busy.write(`GET /proxy/${tenant}/up/x HTTP/1.1\r\nhost: x\r\nx-api-key: ${key}\r\n\r\n`);
    await atUpstream;

    let closed = false;
    const closing = keygate.close().then(() => (closed = true));
    await idle.closed; // idle at close: closed at once
    await waitFor('close to begin', () => keygate.app.server.listening === false);
    release();
    const answer = await busy.response();
    expect(answer.status).toBe(200);
    expect(answer.body).toBe('done');
    expect(answer.headers['connection']).toBe('close');
    await busy.closed;
    await closing;
    expect(closed).toBe(true);
  });
});
