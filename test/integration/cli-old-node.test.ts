import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/keygate.ts';
import { descendantsOf, isRunning } from '../support/processes.ts';
import { ADMIN_TOKEN, startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';

// Regressions: on the machine's Node 20, `keygate` died with a raw ERR_UNKNOWN_FILE_EXTENSION
// stack trace; then, in a checkout, `npx keygate` (what the README says) printed two npm
// EBADENGINE warnings and refused to run, though the bootstrap had put Node 24 in .tools/.
// The old Node is /usr/bin/node here, or KEYGATE_TEST_OLD_NODE; npx is the one beside it.
const oldNode = process.env['KEYGATE_TEST_OLD_NODE'] ?? '/usr/bin/node';
const npx = join(dirname(oldNode), 'npx');
// What a user's shell has: the old Node and its npm first, no .tools/ on the PATH.
const PATH = `${dirname(oldNode)}:/usr/bin:/bin`;

function oldVersion(): string {
  expect(existsSync(oldNode), `no old Node at ${oldNode}; set KEYGATE_TEST_OLD_NODE`).toBe(true);
  const version = spawnSync(oldNode, ['--version'], { encoding: 'utf8' }).stdout.trim();
  const [major = 0, minor = 0] = version.slice(1).split('.').map(Number);
  expect(major < 22 || (major === 22 && minor < 19), `${oldNode} is ${version}, not older than 22.19`).toBe(
    true,
  );
  return version;
}

/** `npx keygate ARGS` in the checkout, on the old Node, as the README tells a user to run it. */
function npxKeygate(args: string[], env: Record<string, string>, input = '') {
  expect(existsSync(npx), `no npx beside ${oldNode}`).toBe(true);
  return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    const child = spawn(npx, ['keygate', ...args], {
      cwd: ROOT,
      env: { PATH, HOME: process.env['HOME'] ?? tmpdir(), ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.stdin.end(input);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('keygate on a Node older than 22.19', () => {
  let t: TestKeygate & ProxyAdmin;
  let env: Record<string, string>;
  beforeAll(async () => {
    t = await startProxyKeygate(`
integrations:
  anthropic: { template: anthropic }
`);
    env = { KEYGATE_URL: t.url, KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN };
  });
  afterAll(() => t.close());

  it('runs `npx keygate status` in a checkout with the bootstrap Node, without npm warnings', async () => {
    oldVersion();
    const run = await npxKeygate(['status'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^keygate +\S+ +up$/m);
    expect(run.stdout).toMatch(/^vault +ready$/m);
  });

  // Regression: the first `npx keygate` in a fresh checkout still printed npm's EBADENGINE
  // warnings, as npm installs the checkout into its npx cache then; the bootstrap does that
  // first, with its own Node.
  it('has npm say nothing the first time either, once the bootstrap has run', () => {
    oldVersion();
    const help = (cache: string) =>
      spawnSync(npx, ['keygate', '--help'], {
        cwd: ROOT,
        encoding: 'utf8',
        env: { PATH, HOME: process.env['HOME'] ?? tmpdir(), npm_config_cache: cache },
      });
    const cold = help(mkdtempSync(join(tmpdir(), 'keygate-npm-cache-')));
    expect(cold.stderr, 'what npm does without the bootstrap').toContain('EBADENGINE');
    const cache = mkdtempSync(join(tmpdir(), 'keygate-npm-cache-'));
    const boot = spawnSync('bash', [join(ROOT, 'scripts/bootstrap.sh'), 'true'], {
      cwd: ROOT,
      encoding: 'utf8',
      env: { ...process.env, npm_config_cache: cache },
    });
    expect([boot.status, boot.stderr]).toEqual([0, '']);
    const warm = help(cache);
    expect([warm.status, warm.stderr]).toEqual([0, '']);
    expect(warm.stdout).toContain('Usage: keygate');
  });

  it('passes standard input and the exit status through', async () => {
    const tenant = uniqueTenant('oldnode');
    const put = await npxKeygate(['credentials', 'put', tenant, 'anthropic'], env, 'sk-ant-from-stdin');
    expect([put.code, put.stderr]).toEqual([0, '']);
    expect(put.stdout).toContain('status: active');
    const usage = await npxKeygate(['keys', 'create'], env);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('say which tenants the key is for');
  });

  it('passes a signal sent to it on to the CLI, and exits when the CLI has', async () => {
    const child = spawn(oldNode, [join(ROOT, 'bin/keygate.js'), 'events'], {
      cwd: ROOT,
      env: { PATH, HOME: process.env['HOME'] ?? tmpdir(), ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    const exit = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    await waitFor('the CLI to follow the events', () => stderr.includes('following events'), {
      timeoutMs: 30_000,
    });
    const cli = descendantsOf(child.pid as number);
    expect(cli.length).toBeGreaterThan(0);
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    await waitFor('the CLI under the shim to stop', () => cli.every((pid) => !isRunning(pid)));
  });

  it('outside a checkout, prints one line naming the Node it needs and exits 2', () => {
    const version = oldVersion();
    // The installed package: bin/ and dist/, no scripts/bootstrap.sh to bring a newer Node.
    const installed = mkdtempSync(join(tmpdir(), 'keygate-installed-'));
    mkdirSync(join(installed, 'bin'));
    copyFileSync(join(ROOT, 'bin/keygate.js'), join(installed, 'bin/keygate.js'));
    writeFileSync(join(installed, 'package.json'), '{"name":"keygate","type":"module"}\n');
    for (const args of [['--help'], ['serve', '--config', 'examples/keygate.dev.yaml']]) {
      const run = spawnSync(oldNode, [join(installed, 'bin/keygate.js'), ...args], {
        encoding: 'utf8',
        cwd: ROOT,
        env: { PATH },
      });
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([
        `keygate: needs Node.js 22.19 or newer (this is ${version}); see https://nodejs.org`,
      ]);
    }
  });
});
