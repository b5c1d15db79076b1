import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { PassThrough } from 'node:stream';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';
import { startKeygate, type Keygate, type StartOptions } from '../../src/keygate.ts';
import { createLogger, type Logger } from '../../src/observability/logger.ts';

export const ROOT = resolve(import.meta.dirname, '../..');

/** A logger whose JSON lines are kept in memory, to assert on (and to hunt canaries in). */
export function memoryLogger(): {
  logger: Logger;
  lines: string[];
  entries: () => Record<string, unknown>[];
} {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return {
    logger: createLogger({ stream, level: 'debug' }),
    lines,
    entries: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
  };
}

/**
 * The Vault prefix of this test file's Keygates (each file gets its module afresh): test
 * files share one OpenBao, and a Keygate sees every credential under its prefix, so one
 * file's scheduler would refresh another file's credentials of a same-named integration
 * at its own provider (a refused grant, a token endpoint called once too often), and
 * replicas of unrelated files would shard refreshes between them. A test that reads
 * Vault's layout itself names its prefix (`vault: { prefix: keygate }`).
 */
export const FILE_PREFIX = `kgt-${randomBytes(4).toString('hex')}`;

/** Configuration from YAML text, with the test environment (Vault address, token) applied. */
export function testConfig(yaml: string, env: Record<string, string | undefined>): Readonly<Config> {
  const doc = (parseYaml(yaml) ?? {}) as Record<string, unknown>;
  // Loopback on a free port, unless the test brings its own server section.
  doc['server'] ??= { host: '127.0.0.1', port: 0 };
  const vault = (doc['vault'] ??= {}) as Record<string, unknown>;
  vault['prefix'] ??= FILE_PREFIX;
  return parseConfig(stringifyYaml(doc), env);
}

export interface TestKeygate extends Keygate {
  lines: string[];
}

/** Keygate in this process, on a free port, logging to memory. */
export async function startTestKeygate(
  yaml: string,
  env: Record<string, string | undefined>,
  options: StartOptions = {},
): Promise<TestKeygate> {
  const { logger, lines } = memoryLogger();
  const keygate = await startKeygate(testConfig(yaml, env), logger, options);
  return Object.assign(keygate, { lines });
}

export interface KeygateProcess {
  pid: number | undefined;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout: () => string;
  stderr: () => string;
  kill(signal?: NodeJS.Signals): void;
}

/** `keygate serve --config FILE` as a child process, as an operator would run it. */
export function spawnKeygate(configText: string, env: Record<string, string | undefined>): KeygateProcess {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-config-'));
  const file = join(dir, 'keygate.yaml');
  writeFileSync(file, configText);
  const child = spawn(process.execPath, [join(ROOT, 'bin/keygate.js'), 'serve', '--config', file], {
    env: { PATH: process.env['PATH'] ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  return {
    pid: child.pid,
    exit: new Promise((resolveExit) => child.once('exit', (code, signal) => resolveExit({ code, signal }))),
    stdout: () => out,
    stderr: () => err,
    kill: (signal = 'SIGTERM') => void child.kill(signal),
  };
}
