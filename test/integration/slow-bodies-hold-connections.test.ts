import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { ADMIN_TOKEN, startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { openRaw, type RawConnection } from '../support/raw-socket.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';

// Issue 8.5: slow request bodies held connections forever (no request timeout), an
// early 401/403/413 left Node reading and discarding the rest of the body, and
// nothing bounded the number of connections.
const tenant = uniqueTenant('slowbody');

describe('slow request bodies and connection bounds', () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  const open: RawConnection[] = [];
  const connect = async () => {
    const conn = await openRaw(keygate.url);
    open.push(conn);
    return conn;
  };

  beforeAll(async () => {
    upstream = await startUpstream();
    keygate = await startProxyKeygate(`
server: { host: 127.0.0.1, port: 0, requestTimeoutMs: 400, maxConnections: 8 }
proxy: { maxBodyBytes: 1000 }
integrations:
  up: { baseUrl: ${upstream.origin}, auth: { type: api_key } }
`);
    await keygate.putCredential(tenant, 'up', { apiKey: 'slow-key-0123' });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    for (const conn of open) conn.destroy();
    await keygate?.close();
    await upstream?.stop();
  });

  it.each([
    ['with a key, on the proxy', () => `POST /proxy/${tenant}/up/x`, () => `x-api-key: ${key}`, 408],
    ['on the admin API', () => 'POST /v1/keys', () => `authorization: Bearer ${ADMIN_TOKEN}`, 408],
    ['without a key', () => `POST /proxy/${tenant}/up/x`, () => 'x-nothing: 1', 401],
  ])('a body that never ends, %s, does not hold the connection', async (_label, line, auth, status) => {
    const conn = await connect();
    conn.write(
      `${line()} HTTP/1.1\r\nhost: x\r\n${auth()}\r\ncontent-type: application/json\r\ncontent-length: 900\r\n\r\n{`,
    );
    const res = await conn.response();
    expect(res.status).toBe(status);
    expect(res.headers['x-keygate-error']).toBe(status === 408 ? 'request_timeout' : 'unauthorized');
    expect(res.headers['connection']).toBe('close');
    await conn.closed; // a connection held forever would time the test out
  });

  it.each([
    ['401 (no key)', 'x-nothing: 1', 'unauthorized', 600],
    ['413 (declared too large)', 'x-api-key: KEY', 'payload_too_large', 5000],
  ])(
    'an early %s says Connection: close and closes without reading the body',
    async (_l, auth, code, length) => {
      const conn = await connect();
      conn.write(
        `POST /proxy/${tenant}/up/x HTTP/1.1\r\nhost: x\r\n${auth.replace('KEY', key)}\r\n` +
          `content-type: application/octet-stream\r\ncontent-length: ${length}\r\n\r\nab`,
      );
      const res = await conn.response();
      expect(res.headers['x-keygate-error']).toBe(code);
      expect(res.headers['connection']).toBe('close');
      await conn.closed;
    },
  );

  it('refuses connections beyond maxConnections, and takes new ones once others close', async () => {
    for (const conn of open.splice(0)) {
      conn.destroy();
      await conn.closed;
    }
    // Connections the admin helpers keep alive count too: open until one is refused.
    const held: RawConnection[] = [];
    let refused: RawConnection | undefined;
    while (!refused && held.length <= 8) {
      const conn = await connect();
      conn.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
      const ok = await conn.response().then(
        (r) => r.status === 200,
        () => false,
      );
      if (ok) held.push(conn);
      else refused = conn;
    }
    expect(refused?.received()).toBe('');
    expect(held.length).toBeGreaterThan(0);
    expect(held.length).toBeLessThanOrEqual(8);
    held[0]?.destroy();
    await held[0]?.closed;
    // The server learns of the closed connection asynchronously; one of the next attempts is accepted.
    let status = 0;
    for (let attempt = 0; attempt < 50 && status !== 200; attempt += 1) {
      const conn = await connect();
      conn.write('GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n');
      status = await conn.response().then(
        (r) => r.status,
        () => 0,
      );
    }
    expect(status).toBe(200);
  });
});
