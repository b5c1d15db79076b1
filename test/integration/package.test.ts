import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { runCli, spawnCli, type CliProcess } from '../support/cli.ts';
import { ROOT } from '../support/keygate.ts';
import { waitFor } from '../support/wait.ts';

const vault = inject('vault');
const run = promisify(execFile);
// npm from the Node running the tests (24), so the package is built and installed as a user would.
const env = { ...process.env, PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}` };

// `npm pack` → `npm install ./keygate-*.tgz` into an empty folder → `keygate --help` and
// `keygate serve` run from node_modules, where Node strips no types: the package must
// ship built JavaScript. Slow (a build and an install on a loaded machine).
describe('the npm package', { timeout: 480_000 }, () => {
  let server: CliProcess | undefined;
  afterAll(() => server?.kill('SIGKILL'));

  it('installs into an empty folder and runs keygate --help and keygate serve', async () => {
    const work = mkdtempSync(join(tmpdir(), 'keygate-package-'));
    await run('npm', ['pack', '--pack-destination', work, '--silent'], { cwd: ROOT, env });
    const tarball = readdirSync(work).find((f) => /^keygate-.*\.tgz$/.test(f));
    expect(tarball, `npm pack made no keygate-*.tgz in ${work}`).toBeDefined();
    const app = join(work, 'app');
    mkdirSync(app);
    writeFileSync(join(app, 'package.json'), '{"name":"app","private":true}\n');
    await run(
      'npm',
      ['install', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error', `../${tarball}`],
      { cwd: app, env },
    );
    const installed = join(app, 'node_modules/keygate');
    // Built JavaScript only: of src/, just the console's static files (no TypeScript).
    expect(readdirSync(installed).sort()).toEqual(
      ['README.md', 'bin', 'dist', 'docs', 'examples', 'package.json', 'src', 'vault'].sort(),
    );
    expect(
      readdirSync(join(installed, 'src'), { recursive: true }).some((f) => String(f).endsWith('.ts')),
    ).toBe(false);
    const bin = join(app, 'node_modules/.bin/keygate');

    const help = await runCli(['--help'], {}, { bin });
    expect([help.code, help.stderr]).toEqual([0, '']);
    expect(help.stdout).toContain('Usage: keygate');

    const config = join(work, 'keygate.yaml');
    writeFileSync(
      config,
      'server: { host: 127.0.0.1, port: 0 }\nintegrations:\n  openai: { template: openai }\n',
    );
    server = spawnCli(
      ['serve', '--config', config],
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
      { bin },
    );
    const url = await waitFor(
      'the listening line',
      () => /"url":"(http:[^"]+)"/.exec(server?.stdout() ?? '')?.[1],
      {
        timeoutMs: 60_000,
      },
    );
    expect((await fetch(`${url}/readyz`)).status).toBe(200);
    server.kill('SIGTERM');
    const stopped = await server.done;
    expect(stopped.code).toBe(0);
    expect(stopped.stdout).toContain('"event":"stopped"');
  });
});
