import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/keygate.ts';
import { freePort } from '../support/ports.ts';
import { commandOf, descendantsOf, isRunning } from '../support/processes.ts';
import { waitFor } from '../support/wait.ts';

const SLOW = { timeoutMs: 120_000, intervalMs: 200 };

interface Dev {
  pid: number;
  out: () => string;
  exit: Promise<number | null>;
}

/** `npm run dev -- ARGS` as a user runs it, on ports from the OS. */
function npmRunDev(args: string[], env: Record<string, string>): Dev {
  const child = spawn('npm', ['run', 'dev', '--', ...args], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return {
    pid: child.pid as number,
    out: () => out,
    exit: new Promise((resolve) => child.once('exit', (code) => resolve(code))),
  };
}

const field = (out: string, label: string) => new RegExp(`${label}\\s+(\\S+)`).exec(out)?.[1] ?? '';

/** SIGTERM to the npm process; then nothing it started may be left. */
async function stopAndCheck(dev: Dev): Promise<void> {
  const started = descendantsOf(dev.pid);
  expect(started.map(commandOf).some((c) => c.includes('bao') && c.includes('server'))).toBe(true);
  process.kill(dev.pid, 'SIGTERM');
  await dev.exit;
  await waitFor(
    'every process npm run dev started to stop',
    () => started.every((pid) => !isRunning(pid)),
    SLOW,
  ).catch(() => {
    throw new Error(`left running: ${started.filter(isRunning).map(commandOf).join('; ')}`);
  });
}

async function ports() {
  return {
    KEYGATE_PORT: String(await freePort()),
    KEYGATE_DEV_VAULT_PORT: String(await freePort()),
    KEYGATE_DEV_VAULT_CLUSTER_PORT: String(await freePort()),
  };
}

/** The banner, or a failure that shows what dev printed instead. */
async function banner(dev: Dev, what: string): Promise<void> {
  let exited = false;
  void dev.exit.then(() => (exited = true));
  await waitFor(what, () => dev.out().includes('Ctrl-C stops') || exited, SLOW).catch((err: Error) => {
    throw new Error(`${err.message}; it printed:\n${dev.out().slice(-3000)}`);
  });
  if (!dev.out().includes('Ctrl-C stops'))
    throw new Error(`dev exited before ${what}:\n${dev.out().slice(-3000)}`);
}

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
    // The demo issuer's access token works too, and is never forwarded either.
    const token = field(dev.out(), 'Access token for acme');
    expect(token.split('.')).toHaveLength(3);
    const byToken = await fetch(`${base}/proxy/acme/echo/hello`, {
      headers: { authorization: `Bearer ${token}` },
    });
    expect([
      byToken.status,
      ((await byToken.json()) as Record<string, unknown>)['callerAuthorizationForwarded'],
    ]).toEqual([200, false]);
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
