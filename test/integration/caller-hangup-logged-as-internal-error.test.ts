import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { ADMIN_TOKEN, startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { openRaw } from '../support/raw-socket.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

// Issue 8.10: a caller hanging up mid-upload was an `internal_error` at error level.
const tenant = uniqueTenant('hangup');

describe('a caller hanging up mid-upload', () => {
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  beforeAll(async () => {
    upstream = await startUpstream();
    keygate = await startProxyKeygate(`
integrations:
  up:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
`);
    await keygate.putCredential(tenant, 'up', { apiKey: 'hangup-key-0123456789' });
    ({ key } = await keygate.createKey({ tenants: [tenant] }));
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
  });

  it.each([
    ['the proxy', () => `POST /proxy/${tenant}/up/upload`, () => key],
    ['the admin API', () => `PUT /v1/tenants/${tenant}/credentials/up`, () => ADMIN_TOKEN],
  ])('on %s is a 499 in the audit, never an error line', async (_label, line, token) => {
    const before = keygate.lines.length;
    const arrived = new Promise<[IncomingMessage, ServerResponse]>((resolve) =>
      keygate.app.server.once('request', (req: IncomingMessage, res: ServerResponse) => resolve([req, res])),
    );
    const conn = await openRaw(keygate.url);
    conn.write(
      `${line()} HTTP/1.1\r\nhost: x\r\nauthorization: Bearer ${token()}\r\n` +
        'content-type: application/json\r\ncontent-length: 100000\r\n\r\n{"apiKey":"',
    );
    const [req, res] = await arrived;
    // Hang up once Keygate is reading the body.
    await waitFor('Keygate to read the body', () => req.readableFlowing === true);
    const answered = new Promise<void>((resolve) => res.once('close', () => resolve()));
    conn.destroy();
    await answered;
    if (line().startsWith('POST')) {
      await waitFor('the audit line with 499', () =>
        keygate.lines
          .slice(before)
          .some((l) => l.includes('"event":"proxy_request"') && l.includes('"status":499')),
      );
    }
    // Whatever the error handler logs is written by the time the response closed.
    await new Promise((resolve) => setImmediate(resolve));
    const after = keygate.lines.slice(before);
    expect(after.filter((l) => l.includes('"level":"error"'))).toEqual([]);
    expect(after.some((l) => l.includes('internal_error'))).toBe(false);
  });
});
