import { spawn } from 'node:child_process';
import { dirname } from 'node:path';
import { expect } from 'vitest';
import { ROOT } from './keygate.ts';
import { freePort } from './ports.ts';
import { commandOf, descendantsOf, isRunning } from './processes.ts';
import { waitFor } from './wait.ts';

export const SLOW = { timeoutMs: 120_000, intervalMs: 200 };

export interface Dev {
  pid: number;
  out: () => string;
  exit: Promise<number | null>;
}

/** npm with the PATH of the Node running the tests, as a user's shell after the bootstrap. */
export const npmEnv = (env: Record<string, string> = {}) => ({
  ...process.env,
  PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
  ...env,
});

/** `npm run dev -- ARGS` as a user runs it, on ports from the OS. */
export function npmRunDev(args: string[], env: Record<string, string>): Dev {
  const child = spawn('npm', ['run', 'dev', '--', ...args], {
    cwd: ROOT,
    env: npmEnv(env),
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

/** A value the banner prints after its label (`Admin token   kga_...`). */
export const field = (out: string, label: string) => new RegExp(`${label}\\s+(\\S+)`).exec(out)?.[1] ?? '';

/** SIGTERM to the npm process; then nothing it started may be left. */
export async function stopAndCheck(dev: Dev): Promise<void> {
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

/** Free ports for Keygate and OpenBao, as KEYGATE_PORT and KEYGATE_DEV_VAULT_*. */
export async function devPorts(): Promise<Record<string, string>> {
  return {
    KEYGATE_PORT: String(await freePort()),
    KEYGATE_DEV_VAULT_PORT: String(await freePort()),
    KEYGATE_DEV_VAULT_CLUSTER_PORT: String(await freePort()),
  };
}

/** The banner, or a failure that shows what dev printed instead. */
export async function banner(dev: Dev, what: string): Promise<void> {
  let exited = false;
  void dev.exit.then(() => (exited = true));
  await waitFor(what, () => dev.out().includes('Ctrl-C stops') || exited, SLOW).catch((err: Error) => {
    throw new Error(`${err.message}; it printed:\n${dev.out().slice(-3000)}`);
  });
  if (!dev.out().includes('Ctrl-C stops'))
    throw new Error(`dev exited before ${what}:\n${dev.out().slice(-3000)}`);
}
