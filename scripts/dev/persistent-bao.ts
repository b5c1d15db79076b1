// `npm run dev -- --persist`: OpenBao with integrated storage (raft) under a git-ignored
// folder, initialised once (one unseal key, kept beside the data) and unsealed by the
// dev script on every start, so credentials, keys and the admin token survive a restart.
// Development only: the unseal key and root token sit in plain files next to the data.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { findBaoBinary } from '../../src/vault/dev-server.ts';

export interface PersistentBao {
  address: string;
  token: string;
  process: ChildProcess;
  stop(): Promise<void>;
}

interface InitFile {
  unsealKey: string;
  rootToken: string;
}

export async function startPersistentBao(
  dir: string,
  port: number,
  clusterPort: number,
): Promise<PersistentBao> {
  const binary = findBaoBinary();
  if (!binary) throw new Error('no bao or vault binary; run scripts/bootstrap.sh');
  const data = join(dir, 'data');
  mkdirSync(data, { recursive: true, mode: 0o700 });
  const address = `http://127.0.0.1:${port}`;
  const config = join(dir, 'openbao.hcl');
  writeFileSync(
    config,
    `storage "raft" {\n  path = "${data}"\n  node_id = "keygate-dev"\n}\n` +
      `listener "tcp" {\n  address = "127.0.0.1:${port}"\n  cluster_address = "127.0.0.1:${clusterPort}"\n  tls_disable = true\n}\n` +
      `api_addr = "${address}"\ncluster_addr = "http://127.0.0.1:${clusterPort}"\ndisable_mlock = true\n`,
  );
  const child = spawn(binary, ['server', `-config=${config}`, '-log-level=warn'], {
    env: { PATH: process.env['PATH'] ?? '', HOME: dir },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr?.on('data', (c: Buffer) => (stderr = (stderr + c.toString()).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let dead = false;
  void exited.then(() => (dead = true));
  const bao: PersistentBao = {
    address,
    token: '',
    process: child,
    async stop() {
      if (!dead) child.kill('SIGTERM');
      await exited;
    },
  };
  try {
    const call = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${address}/v1/${path}`, {
        method,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: res.status, body: (await res.json().catch(() => ({}))) as Record<string, unknown> };
    };
    const until = async <T>(what: string, check: () => Promise<T | undefined>): Promise<T> => {
      const deadline = Date.now() + 30_000;
      for (;;) {
        if (dead) throw new Error(`bao exited: ${stderr}`);
        const value = await check().catch(() => undefined);
        if (value !== undefined) return value;
        if (Date.now() > deadline) throw new Error(`OpenBao: timed out waiting for ${what}: ${stderr}`);
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    const initialized = await until(
      'it to answer',
      async () => (await call('GET', 'sys/init')).body['initialized'],
    );
    const file = join(dir, 'init.json');
    let init: InitFile;
    if (initialized === false) {
      const answer = await call('PUT', 'sys/init', { secret_shares: 1, secret_threshold: 1 });
      const keys = answer.body['keys_base64'] as string[] | undefined;
      if (answer.status !== 200 || !keys?.[0]) throw new Error(`OpenBao init failed: ${answer.status}`);
      init = { unsealKey: keys[0], rootToken: String(answer.body['root_token']) };
      writeFileSync(file, `${JSON.stringify(init, null, 2)}\n`, { mode: 0o600 });
    } else {
      if (!existsSync(file))
        throw new Error(`${dir} holds an initialised OpenBao but no init.json to unseal it`);
      init = JSON.parse(readFileSync(file, 'utf8')) as InitFile;
      chmodSync(file, 0o600);
    }
    const unseal = await call('PUT', 'sys/unseal', { key: init.unsealKey });
    if (unseal.status !== 200) throw new Error(`OpenBao unseal failed: ${unseal.status}`);
    // Single-node raft elects itself a leader a moment after the unseal.
    await until('it to become active', async () =>
      (await call('GET', 'sys/health')).status === 200 ? true : undefined,
    );
    bao.token = init.rootToken;
    return bao;
  } catch (err) {
    await bao.stop();
    throw err;
  }
}
