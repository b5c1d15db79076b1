import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { banner, devPorts as ports, field, npmRunDev, stopAndCheck } from '../support/dev.ts';

describe('npm run dev', { timeout: 400_000 }, () => {
  it('says which port is busy and starts nothing', async () => {
    const busy = createServer();
    await new Promise<void>((r) => busy.listen(0, '127.0.0.1', r));
    const port = (busy.address() as { port: number }).port;
    try {
      const dev = npmRunDev([], { ...(await ports()), KEYGATE_PORT: String(port) });
      expect(await dev.exit).not.toBe(0);
      expect(dev.out()).toContain(`dev: port ${port} (Keygate, KEYGATE_PORT) is busy`);
      expect(dev.out()).toContain('Nothing was started.');
      expect(dev.out()).not.toContain('at ');
    } finally {
      busy.close();
    }
  });

  it('serves the printed request offline, and SIGTERM to npm leaves no child running', async () => {
    const dev = npmRunDev([], await ports());
    await banner(dev, 'the banner');
    const base = field(dev.out(), 'Keygate \\(dev\\)');
    const key = field(dev.out(), 'Keygate key for acme');
    const res = await fetch(`${base}/proxy/acme/echo/hello`, { headers: { authorization: `Bearer ${key}` } });
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      upstream: 'echo',
      path: '/hello',
      callerAuthorizationForwarded: false,
    });
    // Regression: nothing printed named the console, and GET / answered not_found.
    const consoleUrl = field(dev.out(), 'Console');
    expect(consoleUrl).toBe(`${base}/console`);
    expect((await fetch(consoleUrl)).status).toBe(200);
    expect(
      (await fetch(base, { headers: { accept: 'text/html' }, redirect: 'manual' })).headers.get('location'),
    ).toBe('/console');
    // Regression: the quick start's Anthropic call needed the network; the stand-in answers offline.
    const models = await fetch(`${base}/proxy/acme/demo-anthropic/v1/models`, {
      headers: { 'x-api-key': key },
    });
    expect(models.status).toBe(200);
    expect(((await models.json()) as { data: unknown[] }).data.length).toBeGreaterThan(0);
    await stopAndCheck(dev);
  });

  it('--persist keeps credentials, keys and the admin token across a restart', async () => {
    const env = { ...(await ports()), KEYGATE_DEV_DIR: mkdtempSync(join(tmpdir(), 'keygate-dev-')) };
    const first = npmRunDev(['--persist'], env);
    await banner(first, 'the first banner');
    const base = field(first.out(), 'Keygate \\(dev\\)');
    const admin = field(first.out(), 'Admin token');
    const key = field(first.out(), 'Keygate key for acme');
    const put = await fetch(`${base}/v1/tenants/acme/credentials/anthropic`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ apiKey: 'sk-ant-persisted' }),
    });
    expect(put.status).toBe(200);
    await stopAndCheck(first);

    const second = npmRunDev(['--persist'], env);
    await banner(second, 'the second banner');
    expect(field(second.out(), 'Admin token')).toBe(admin);
    expect(field(second.out(), 'Keygate key for acme')).toBe(key);
    const got = await fetch(`${base}/v1/tenants/acme/credentials/anthropic`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect([got.status, ((await got.json()) as { status?: string }).status]).toEqual([200, 'active']);
    const proxied = await fetch(`${base}/proxy/acme/echo/x`, { headers: { authorization: `Bearer ${key}` } });
    expect(proxied.status).toBe(200);
    await stopAndCheck(second);
  });
});
