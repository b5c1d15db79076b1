// Proxy overhead, side by side in one run:
//   npm run bench:proxy
//   BENCH_SECONDS=10 BENCH_CONNECTIONS=50 BENCH_RATE=1000 BENCH_RUNS=3 by default;
//   BENCH_BEFORE_ROOT=DIR adds the Keygate of another checkout; BENCH_ONLY=keygate,bare picks contenders by name; BENCH_PROFILE=DIR starts every Node
//   contender with --cpu-prof into DIR (named by pid, printed).
// Contenders, each in its own process: the origin directly, a bare @fastify/http-proxy
// (no injection), a hand-written node:http + undici proxy (the floor for a Node proxy),
// Keygate with a cached credential and a cached key (as deployed, one audit line per
// request to a file; and at log level warn, without it), Keygate with a cached access
// token instead of the key (a JWT of a local issuer, verified once, then a hash and a
// lookup per request), Keygate exporting a trace of every request to a collector stand-in
// (bench/support/otlp-sink.ts), and nginx adding a fixed header
// where nginx is installed (skipped otherwise). Per contender and run: saturation req/s
// at BENCH_CONNECTIONS with the proxy's CPU per request while saturated, p99 at a fixed BENCH_RATE req/s over 10 connections with CPU time
// per request of the proxy process (user + system from /proc over that fixed number of
// requests), and req/s over one connection. Every figure printed is the median of the
// runs; ratios are medians of same-run ratios to the bare proxy. Runs interleave the
// contenders, so drifting load on a shared machine hits them all alike.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { freePort, prepareVault, startBao, type VaultTarget } from '../src/vault/dev-server.ts';
import { startTokenIssuer, type TokenIssuer } from '../test/support/token-issuer.ts';
import { cpuSeconds } from './support/cpu.ts';
import { startNginx } from './support/nginx.ts';

const ROOT = resolve(import.meta.dirname, '..');
const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);
const SECONDS = env('BENCH_SECONDS', 10);
const CONNECTIONS = env('BENCH_CONNECTIONS', 50);
const RATE = env('BENCH_RATE', 1000);
const RUNS = env('BENCH_RUNS', 3);
const ONLY = process.env['BENCH_ONLY']?.split(',');
const PROFILE = process.env['BENCH_PROFILE'];
// Another checkout (with its node_modules) whose Keygate runs beside this one, as
// "keygate before": before/after figures from the same run.
const BEFORE_ROOT = process.env['BENCH_BEFORE_ROOT'];
const ADMIN = 'bench-admin-token-0123456789abcdef';
// Pinning: every proxy on CPU 0, the load generator (this process), the origin and
// OpenBao on CPU 1, so a proxy competes with no one for its core and saturation measures
// what it costs, not how the scheduler shared two cores that run a load generator too.
// BENCH_PIN=0 turns it off; it is off where taskset or a second CPU is missing.
const PIN =
  process.env['BENCH_PIN'] !== '0' &&
  availableParallelism() >= 2 &&
  spawnSync('sh', ['-c', 'command -v taskset']).status === 0;
if (PIN) execFileSync('taskset', ['-cp', '1', String(process.pid)], { stdio: 'ignore' });
/** The command and arguments that run `command` on the proxies' CPU (or the rest's), when pinning. */
function pinned(proxy: boolean, command: string, args: string[]): [string, string[]] {
  return PIN ? ['taskset', ['-c', proxy ? '0' : '1', command, ...args]] : [command, args];
}
const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

interface Contender {
  name: string;
  url: string;
  headers: Record<string, string>;
  /** The proxy's process, whose CPU time is measured; none for the origin itself. */
  pid: number | undefined;
}

interface Figures {
  rps: number;
  /** CPU per request while saturated: what bounds req/s once the proxy's core is full. */
  cpuUsAtSaturation: number;
  p99AtRate: number;
  cpuUsPerRequest: number;
  rpsOne: number;
  errors: number;
}

function child(
  args: string[],
  extraEnv: Record<string, string> = {},
  logFile?: string,
  proxy = true,
): ChildProcess {
  const out = logFile ? openSync(logFile, 'a') : 'pipe';
  const profile = PROFILE ? ['--cpu-prof', `--cpu-prof-dir=${PROFILE}`] : [];
  const flags = process.env['BENCH_NODE_FLAGS']?.split(' ').filter(Boolean) ?? [];
  const [command, argv] = pinned(proxy, process.execPath, [...profile, ...flags, ...args]);
  const proc = spawn(command, argv, {
    cwd: ROOT,
    env: { ...process.env, ...extraEnv },
    stdio: ['ignore', out, 'inherit'],
  });
  children.push(proc);
  return proc;
}

function portOf(proc: ChildProcess): Promise<number> {
  return new Promise((resolvePort, reject) => {
    let text = '';
    proc.stdout?.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const match = /"port":(\d+)/.exec(text);
      if (match) resolvePort(Number(match[1]));
    });
    proc.once('exit', (code) => reject(new Error(`exited with ${code}`)));
  });
}

async function untilUp(url: string, init: RequestInit = {}): Promise<void> {
  for (let i = 0; i < 200; i += 1) {
    try {
      const res = await fetch(url, init);
      await res.arrayBuffer();
      if (res.status < 500) return;
    } catch {
      /* not yet listening */
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${url} never came up`);
}

async function measure(c: Contender): Promise<Figures> {
  const base = { url: c.url, headers: c.headers };
  await autocannon({ ...base, connections: CONNECTIONS, duration: 2 }); // warm-up
  const beforeSaturation = c.pid === undefined ? 0 : cpuSeconds(c.pid);
  const saturated = await autocannon({ ...base, connections: CONNECTIONS, duration: SECONDS });
  const before = c.pid === undefined ? 0 : cpuSeconds(c.pid);
  const cpuSaturated = c.pid === undefined ? Number.NaN : before - beforeSaturation;
  const amount = RATE * SECONDS;
  const paced = await autocannon({ ...base, connections: 10, overallRate: RATE, amount });
  const cpu = c.pid === undefined ? Number.NaN : cpuSeconds(c.pid) - before;
  const one = await autocannon({ ...base, connections: 1, duration: SECONDS });
  const errors = [saturated, paced, one].reduce((n, r) => n + r.errors + r.timeouts + r.non2xx, 0);
  return {
    rps: saturated.requests.average,
    cpuUsAtSaturation: (cpuSaturated / Math.max(1, saturated.requests.total ?? 0)) * 1e6,
    p99AtRate: paced.latency.p99,
    cpuUsPerRequest: (cpu / amount) * 1e6,
    rpsOne: one.requests.average,
    errors,
  };
}

async function vault(): Promise<VaultTarget> {
  if (process.env['VAULT_ADDR'] && process.env['VAULT_TOKEN']) {
    return { address: process.env['VAULT_ADDR'], token: process.env['VAULT_TOKEN'] };
  }
  const bao = await startBao();
  cleanups.push(() => bao.stop());
  return bao;
}

// Every Keygate of this checkout accepts tokens of this issuer, so the key and token rows
// run the same configuration; the issuer (its JWKS) lives on the load side.
let issuer: TokenIssuer | undefined;

async function keygate(
  target: VaultTarget,
  origin: string,
  dir: string,
  logLevel: string,
  root = ROOT,
  caller: 'key' | 'token' = 'key',
  extraYaml = '',
) {
  const port = await freePort();
  const file = join(dir, `keygate-${logLevel}-${port}.yaml`);
  const callers =
    root === ROOT && issuer
      ? `callers: { issuers: [{ issuer: "${issuer.issuer}", tenant: { value: bench } }] }\n`
      : '';
  writeFileSync(
    file,
    `server: { host: 127.0.0.1, port: ${port} }
cache: { ttlSeconds: 3600 }
log: { level: ${logLevel} }
proxy: { keyCacheTtlSeconds: 3600, upstream: { connections: 128 } }
${extraYaml}${callers}integrations:
  api:
    baseUrl: ${origin}
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
    headers: { anthropic-version: "2023-06-01" }
`,
  );
  const vaultEnv = { VAULT_ADDR: target.address, VAULT_TOKEN: target.token, KEYGATE_ADMIN_TOKEN: ADMIN };
  const proc = child(
    [join(root, 'bin/keygate.js'), 'serve', '--config', file],
    vaultEnv,
    join(dir, `keygate-${logLevel}-${port}.log`),
  );
  const url = `http://127.0.0.1:${port}`;
  await untilUp(`${url}/healthz`);
  const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
  const put = await fetch(`${url}/v1/tenants/bench/credentials/api`, {
    method: 'PUT',
    headers: admin,
    body: JSON.stringify({ apiKey: 'bench-upstream-key' }),
  });
  if (put.status !== 200) throw new Error(`storing the credential: ${put.status}`);
  const created = await fetch(`${url}/v1/keys`, {
    method: 'POST',
    headers: admin,
    body: JSON.stringify({ tenants: ['bench'] }),
  });
  const { key } = (await created.json()) as { key: string };
  if (caller === 'token' && issuer) {
    const now = Math.floor(Date.now() / 1000);
    const token = await issuer.sign({ sub: 'bench', aud: url, scope: 'keygate:proxy', exp: now + 86_400 });
    return { url: `${url}/proxy/bench/api`, headers: { 'x-api-key': token }, pid: proc.pid };
  }
  return { url: `${url}/proxy/bench/api`, headers: { 'x-api-key': key }, pid: proc.pid };
}

const median = (values: number[]) => {
  const sorted = values.filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (sorted.length === 0) return Number.NaN;
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2
    ? (sorted[mid] as number)
    : ((sorted[mid - 1] as number) + (sorted[mid] as number)) / 2;
};
const fmt = (n: number, digits = 0, width = 10) =>
  (Number.isNaN(n) ? '-' : n.toFixed(digits)).padStart(width);

async function contenders(dir: string): Promise<Contender[]> {
  const originProc = child([join(ROOT, 'bench/support/origin.ts')], {}, undefined, false);
  const origin = `http://127.0.0.1:${await portOf(originProc)}`;
  const list: Contender[] = [{ name: 'direct to origin', url: origin, headers: {}, pid: undefined }];
  const bareProc = child([join(ROOT, 'bench/support/bare-proxy.ts'), origin]);
  const bare = `http://127.0.0.1:${await portOf(bareProc)}`;
  list.push({ name: 'bare @fastify/http-proxy', url: bare, headers: {}, pid: bareProc.pid });
  const undiciProc = child([join(ROOT, 'bench/support/undici-proxy.ts'), origin]);
  const undici = `http://127.0.0.1:${await portOf(undiciProc)}`;
  list.push({ name: 'node:http + undici', url: undici, headers: {}, pid: undiciProc.pid });
  const target = await vault();
  await prepareVault(target);
  issuer = await startTokenIssuer({ alg: 'ES256' });
  cleanups.push(() => issuer?.stop());
  list.push({ name: 'keygate (cached)', ...(await keygate(target, origin, dir, 'info')) });
  list.push({ name: 'keygate (token)', ...(await keygate(target, origin, dir, 'info', ROOT, 'token')) });
  list.push({ name: 'keygate (no audit line)', ...(await keygate(target, origin, dir, 'warn')) });
  // Traces on: every request sampled, exported to a collector stand-in on the load side.
  const sink = child([join(ROOT, 'bench/support/otlp-sink.ts')], {}, undefined, false);
  const sinkPort = await new Promise<number>((resolvePort) =>
    sink.stdout?.once('data', (chunk: Buffer) => resolvePort(Number(chunk.toString().trim()))),
  );
  const telemetry = `telemetry: { otlp: { endpoint: "http://127.0.0.1:${sinkPort}" } }\n`;
  list.push({
    name: 'keygate (tracing on)',
    ...(await keygate(target, origin, dir, 'info', ROOT, 'key', telemetry)),
  });
  if (BEFORE_ROOT) {
    list.push({
      name: 'keygate before (cached)',
      ...(await keygate(target, origin, dir, 'info', BEFORE_ROOT)),
    });
    const quiet = await keygate(target, origin, dir, 'warn', BEFORE_ROOT);
    list.push({ name: 'keygate before (no audit)', ...quiet });
  }
  const nginxPort = await freePort();
  const nginx = startNginx(origin, dir, nginxPort, (command, args) => pinned(true, command, args));
  if (nginx) {
    children.push(nginx);
    const url = `http://127.0.0.1:${nginxPort}`;
    await untilUp(url);
    list.push({ name: 'nginx (fixed header)', url, headers: {}, pid: nginx.pid });
  } else process.stdout.write('nginx: not installed, skipped\n');
  return list.filter(
    (c) => !ONLY || c.name === 'bare @fastify/http-proxy' || ONLY.some((o) => c.name.includes(o)),
  );
}

async function cleanUp(): Promise<void> {
  for (const proc of children) proc.kill('SIGTERM');
  for (const cleanup of cleanups.splice(0)) await cleanup();
}
// Stopped early, the bench still stops what it started (OpenBao included).
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void cleanUp().finally(() => process.exit(130)));
}

try {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-bench-'));
  if (PROFILE) mkdirSync(PROFILE, { recursive: true });
  const list = await contenders(dir);
  if (PROFILE)
    process.stdout.write(`profiles in ${PROFILE}: ${list.map((c) => `${c.name} pid ${c.pid}`).join(', ')}\n`);
  const path = '/v1/messages';
  const bareIndex = Math.max(
    0,
    list.findIndex((c) => c.name.startsWith('bare')),
  );
  const runs: Figures[][] = [];
  for (let run = 0; run < RUNS; run += 1) {
    const figures: Figures[] = [];
    for (const c of list) figures.push(await measure({ ...c, url: `${c.url}${path}` }));
    runs.push(figures);
    const bare = figures[bareIndex] as Figures;
    process.stdout.write(
      `run ${run + 1}: ${list.map((c, i) => `${c.name} ${Math.round((figures[i] as Figures).rps)} (${((figures[i] as Figures).rps / bare.rps).toFixed(2)})`).join(', ')}\n`,
    );
  }
  const col = (i: number, pick: (f: Figures) => number) => median(runs.map((r) => pick(r[i] as Figures)));
  const ratio = (i: number, pick: (f: Figures) => number) =>
    median(runs.map((r) => pick(r[i] as Figures) / pick(r[bareIndex] as Figures)));
  process.stdout.write(
    `\nproxy overhead: median of ${RUNS} runs; saturation ${CONNECTIONS} connections ${SECONDS} s; ` +
      `fixed ${RATE} req/s × ${SECONDS} s over 10 connections; 1 connection ${SECONDS} s; node ${process.version}; ` +
      `${PIN ? 'proxies pinned to CPU 0, the rest to CPU 1' : 'not pinned'}\n` +
      `${'contender'.padEnd(26)}${'req/s'.padStart(10)}${'÷ bare'.padStart(8)}${'µs/req sat'.padStart(12)}${'÷ bare'.padStart(8)}${`p99@${RATE}`.padStart(10)}` +
      `${'CPU µs/req'.padStart(12)}${'÷ bare'.padStart(8)}${'1-conn r/s'.padStart(12)}${'÷ bare'.padStart(8)}${'errors'.padStart(8)}\n`,
  );
  list.forEach((c, i) => {
    process.stdout.write(
      `${c.name.padEnd(26)}${fmt(col(i, (f) => f.rps))}${fmt(
        ratio(i, (f) => f.rps),
        2,
        8,
      )}` +
        `${fmt(
          col(i, (f) => f.cpuUsAtSaturation),
          0,
          12,
        )}${fmt(
          ratio(i, (f) => f.cpuUsAtSaturation),
          2,
          8,
        )}` +
        `${fmt(
          col(i, (f) => f.p99AtRate),
          1,
        )}${fmt(
          col(i, (f) => f.cpuUsPerRequest),
          0,
          12,
        )}` +
        `${fmt(
          ratio(i, (f) => f.cpuUsPerRequest),
          2,
          8,
        )}${fmt(
          col(i, (f) => f.rpsOne),
          0,
          12,
        )}` +
        `${fmt(
          ratio(i, (f) => f.rpsOne),
          2,
          8,
        )}${String(runs.reduce((n, r) => n + (r[i] as Figures).errors, 0)).padStart(8)}\n`,
    );
  });
} finally {
  await cleanUp();
}
