import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { ROOT } from './keygate.ts';

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface CliProcess {
  pid: number | undefined;
  done: Promise<CliRun>;
  stdout: () => string;
  stderr: () => string;
  kill(signal?: NodeJS.Signals): void;
}

/**
 * `keygate ARGS` as a child process, as an operator would run it; `input` is written to
 * its standard input (then closed), the way a secret is piped in.
 */
export function spawnCli(
  args: string[],
  env: Record<string, string | undefined>,
  { input, bin = join(ROOT, 'bin/keygate.js') }: { input?: string; bin?: string } = {},
): CliProcess {
  const child = spawn(process.execPath, [bin, ...args], {
    env: { PATH: process.env['PATH'] ?? '', KEYGATE_NO_BROWSER: '1', ...env },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  child.stdin.end(input ?? '');
  return {
    pid: child.pid,
    done: new Promise((resolve) =>
      child.once('close', (code) => resolve({ code, stdout: out, stderr: err })),
    ),
    stdout: () => out,
    stderr: () => err,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  };
}

/** Runs `keygate ARGS` to the end. */
export function runCli(
  args: string[],
  env: Record<string, string | undefined>,
  options: { input?: string; bin?: string } = {},
): Promise<CliRun> {
  return spawnCli(args, env, options).done;
}
