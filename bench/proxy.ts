// Proxy overhead, side by side in one run:
//   npm run bench:proxy            (BENCH_SECONDS=10 BENCH_CONNECTIONS=50 by default)
// autocannon against: the origin directly, a bare @fastify/http-proxy (no injection),
// Keygate with a cached credential and a cached key, and nginx adding a fixed header
// where nginx is installed (skipped otherwise). Each contender runs in its own process;
// Keygate uses VAULT_ADDR/VAULT_TOKEN when set, else its own `bao server -dev`. Keygate
// runs twice: as configured (one audit line per request, to a file) and at log level
// warn (no audit line), to show what the audit line costs; nginx writes an access log.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, openSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import { freePort, prepareVault, startBao, type VaultTarget } from '../src/vault/dev-server.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const CONNECTIONS = Number(process.env['BENCH_CONNECTIONS'] ?? 50);
const ADMIN = 'bench-admin-token-0123456789abcdef';
const children: ChildProcess[] = [];
const cleanups: Array<() => Promise<void> | void> = [];

interface Result {
  name: string;
  rps: number;
  p50: number;
  p99: number;
  errors: number;
}

function child(args: string[], env: Record<string, string> = {}, logFile?: string): ChildProcess {
  const out = logFile ? openSync(logFile, 'a') : 'pipe';
  const proc = spawn(process.execPath, args, {
    cwd: ROOT,
    env: { ...process.env, ...env },
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

async function measure(name: string, url: string, headers: Record<string, string> = {}): Promise<Result> {
  await autocannon({ url, connections: CONNECTIONS, duration: 2, headers }); // warm-up
  const r = await autocannon({ url, connections: CONNECTIONS, duration: SECONDS, headers });
  const errors = r.errors + r.timeouts + r.non2xx;
  return { name, rps: r.requests.average, p50: r.latency.p50, p99: r.latency.p99, errors };
}

async function vault(): Promise<VaultTarget> {
  if (process.env['VAULT_ADDR'] && process.env['VAULT_TOKEN']) {
    return { address: process.env['VAULT_ADDR'], token: process.env['VAULT_TOKEN'] };
  }
  const bao = await startBao();
  cleanups.push(() => bao.stop());
  return bao;
}

async function keygate(
  target: VaultTarget,
  origin: string,
  dir: string,
  logLevel: string,
): Promise<{ url: string; key: string }> {
  const port = await freePort();
  const file = join(dir, `keygate-${logLevel}.yaml`);
  writeFileSync(
    file,
    `server: { host: 127.0.0.1, port: ${port} }
cache: { ttlSeconds: 3600 }
log: { level: ${logLevel} }
proxy: { keyCacheTtlSeconds: 3600, upstream: { connections: 128 } }
integrations:
  api:
    baseUrl: ${origin}
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
    headers: { anthropic-version: "2023-06-01" }
`,
  );
  const env = { VAULT_ADDR: target.address, VAULT_TOKEN: target.token, KEYGATE_ADMIN_TOKEN: ADMIN };
  child([join(ROOT, 'bin/keygate.js'), 'serve', '--config', file], env, join(dir, `keygate-${logLevel}.log`));
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
  return { url, key };
}

async function nginx(origin: string, dir: string): Promise<string | undefined> {
  if (spawnSync('sh', ['-c', 'command -v nginx']).status !== 0) return undefined;
  const port = await freePort();
  const prefix = join(dir, 'nginx');
  mkdirSync(join(prefix, 'tmp'), { recursive: true });
  const originPort = new URL(origin).port;
  writeFileSync(
    join(prefix, 'nginx.conf'),
    `worker_processes 1;
daemon off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 4096; }
http {
  access_log ${prefix}/access.log;
  client_body_temp_path ${prefix}/tmp/body; proxy_temp_path ${prefix}/tmp/proxy;
  fastcgi_temp_path ${prefix}/tmp/fcgi; uwsgi_temp_path ${prefix}/tmp/uwsgi; scgi_temp_path ${prefix}/tmp/scgi;
  upstream origin { server 127.0.0.1:${originPort}; keepalive 128; }
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass http://origin;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header x-api-key "bench-upstream-key";
    }
  }
}
`,
  );
  const proc = spawn('nginx', ['-p', prefix, '-c', join(prefix, 'nginx.conf')], { stdio: 'ignore' });
  children.push(proc);
  const url = `http://127.0.0.1:${port}`;
  await untilUp(url);
  return url;
}

const fmt = (n: number, digits = 0) => n.toFixed(digits).padStart(9);

try {
  const dir = mkdtempSync(join(tmpdir(), 'keygate-bench-'));
  const originProc = child([join(ROOT, 'bench/support/origin.ts')]);
  const origin = `http://127.0.0.1:${await portOf(originProc)}`;
  const bareProc = child([join(ROOT, 'bench/support/bare-proxy.ts'), origin]);
  const bare = `http://127.0.0.1:${await portOf(bareProc)}`;
  const target = await vault();
  await prepareVault(target);
  const kg = await keygate(target, origin, dir, 'info');
  const quiet = await keygate(target, origin, dir, 'warn'); // the same without its audit line
  const ngx = await nginx(origin, dir);

  const path = '/v1/messages';
  const results: Result[] = [];
  results.push(await measure('direct to origin', `${origin}${path}`));
  results.push(await measure('bare @fastify/http-proxy', `${bare}${path}`));
  results.push(
    await measure('keygate (cached)', `${kg.url}/proxy/bench/api${path}`, { 'x-api-key': kg.key }),
  );
  results.push(
    await measure('keygate (no audit line)', `${quiet.url}/proxy/bench/api${path}`, {
      'x-api-key': quiet.key,
    }),
  );
  if (ngx) results.push(await measure('nginx (fixed header)', `${ngx}${path}`));

  const baseline = results[1] as Result;
  process.stdout.write(
    `\nproxy overhead: ${CONNECTIONS} connections, ${SECONDS} s each, node ${process.version}\n` +
      `${'contender'.padEnd(28)}${'req/s'.padStart(9)}${'p50 ms'.padStart(9)}${'p99 ms'.padStart(9)}` +
      `${'req/s ÷ bare'.padStart(14)}${'errors'.padStart(8)}\n`,
  );
  for (const r of results) {
    process.stdout.write(
      `${r.name.padEnd(28)}${fmt(r.rps)}${fmt(r.p50, 1)}${fmt(r.p99, 1)}${fmt(r.rps / baseline.rps, 2).padStart(14)}${String(r.errors).padStart(8)}\n`,
    );
  }
  if (!ngx) process.stdout.write('nginx: not installed, skipped\n');
} finally {
  for (const proc of children) proc.kill('SIGTERM');
  for (const cleanup of cleanups) await cleanup();
}
