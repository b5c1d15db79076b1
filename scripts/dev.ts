// `npm run dev`: an embedded OpenBao dev server (in memory), initialised with
// vault/scripts/init-vault.sh; a local demo upstream ("echo"); and Keygate, logged in
// to OpenBao with the AppRole that script made, with a demo credential and a Keygate
// key already in place so the first request printed works offline. Ctrl-C stops all.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { startBao } from '../src/vault/dev-server.ts';

const root = resolve(import.meta.dirname, '..');
const port = process.env['KEYGATE_PORT'] ?? '8080';
const base = `http://127.0.0.1:${port}`;

// The demo upstream: tells what reached it, with the injected credential masked.
const echo = createServer((req, res) => {
  const key = req.headers['x-api-key'];
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(
    JSON.stringify({
      upstream: 'echo',
      method: req.method,
      path: req.url,
      injectedApiKey: typeof key === 'string' ? `${key.slice(0, 5)}... (${key.length} chars)` : null,
      callerAuthorizationForwarded: req.headers.authorization !== undefined,
    }),
  );
});
await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
const echoPort = (echo.address() as AddressInfo).port;

const bao = await startBao({ port: Number(process.env['KEYGATE_DEV_VAULT_PORT'] ?? 0) || undefined });
const init = spawnSync('bash', [resolve(root, 'vault/scripts/init-vault.sh')], {
  env: { ...process.env, VAULT_ADDR: bao.address, VAULT_TOKEN: bao.token },
  encoding: 'utf8',
});
if (init.status !== 0) {
  console.error(`dev: init-vault.sh failed:\n${init.stderr}`);
  await bao.stop();
  process.exit(1);
}
const approle = Object.fromEntries(
  init.stdout
    .trim()
    .split('\n')
    .map((line) => line.split('=', 2) as [string, string]),
);

const adminToken = process.env['KEYGATE_ADMIN_TOKEN'] ?? `kga_${randomBytes(24).toString('base64url')}`;
const keygate = spawn(
  process.execPath,
  [resolve(root, 'bin/keygate.js'), 'serve', '--config', resolve(root, 'examples/keygate.dev.yaml')],
  {
    env: {
      ...process.env,
      VAULT_ADDR: bao.address,
      VAULT_TOKEN: '',
      VAULT_ROLE_ID: approle['VAULT_ROLE_ID'],
      VAULT_SECRET_ID: approle['VAULT_SECRET_ID'],
      KEYGATE_ADMIN_TOKEN: adminToken,
      KEYGATE_PORT: port,
      KEYGATE_DEV_ECHO_URL: `http://127.0.0.1:${echoPort}`,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  if (keygate.exitCode === null) {
    keygate.kill('SIGTERM');
    await new Promise((r) => keygate.once('exit', r));
  }
  await bao.stop();
  echo.close();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
keygate.on('exit', (code) => void stop(code ?? 1));

for (let i = 0; i < 100; i += 1) {
  const ok = await fetch(`${base}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
  if (ok) break;
  await new Promise((r) => setTimeout(r, 100));
}

const admin = async (method: string, path: string, body: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`dev: ${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
};
await admin('PUT', '/v1/tenants/acme/credentials/echo', { apiKey: `demo-${randomBytes(8).toString('hex')}` });
const { key } = await admin('POST', '/v1/keys', { name: 'dev', tenants: ['acme'] });

console.log(`
  Keygate (dev)            ${base}
  OpenBao (dev, in memory) ${bao.address}   root token: ${bao.token}
  Admin token              ${adminToken}
  Demo upstream "echo"     http://127.0.0.1:${echoPort}  (tenant acme has an API key for it)
  Keygate key for acme     ${String(key)}

  Try:
    curl ${base}/proxy/acme/echo/hello -H 'authorization: Bearer ${String(key)}'
    curl ${base}/readyz
    curl ${base}/v1/tenants/acme/credentials -H 'authorization: Bearer ${adminToken}'
    curl -N ${base}/v1/events -H 'authorization: Bearer ${adminToken}'
    curl -X PUT ${base}/v1/tenants/acme/credentials/anthropic \\
      -H 'authorization: Bearer ${adminToken}' -H 'content-type: application/json' \\
      -d '{"apiKey":"sk-ant-your-key"}'
    curl ${base}/proxy/acme/anthropic/v1/models -H 'x-api-key: ${String(key)}'

  Ctrl-C stops Keygate, OpenBao and the demo upstream.
`);
