import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/keygate.ts';

// Regression: on the machine's Node 20, `keygate` died with a raw ERR_UNKNOWN_FILE_EXTENSION
// stack trace. The old Node is /usr/bin/node here, or KEYGATE_TEST_OLD_NODE.
const oldNode = process.env['KEYGATE_TEST_OLD_NODE'] ?? '/usr/bin/node';

describe('keygate on a Node older than 22.18', () => {
  it('prints one line naming the Node it needs and exits 2', () => {
    expect(existsSync(oldNode), `no old Node at ${oldNode}; set KEYGATE_TEST_OLD_NODE`).toBe(true);
    const version = spawnSync(oldNode, ['--version'], { encoding: 'utf8' }).stdout.trim();
    const [major = 0, minor = 0] = version.slice(1).split('.').map(Number);
    expect(major < 22 || (major === 22 && minor < 18), `${oldNode} is ${version}, not older than 22.18`).toBe(
      true,
    );
    for (const args of [['--help'], ['serve', '--config', 'examples/keygate.dev.yaml']]) {
      const run = spawnSync(oldNode, [join(ROOT, 'bin/keygate.js'), ...args], {
        encoding: 'utf8',
        cwd: ROOT,
      });
      expect(run.status).toBe(2);
      expect(run.stdout).toBe('');
      expect(run.stderr.trim().split('\n')).toEqual([
        `keygate: needs Node.js 22.18 or newer (this is ${version}); see https://nodejs.org`,
      ]);
    }
  });
});
