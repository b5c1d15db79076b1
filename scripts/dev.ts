// `npm run dev`: an embedded OpenBao dev server (in memory), initialised with
// vault/scripts/init-vault.sh, and Keygate logged in to it with the AppRole that
// script made. Ctrl-C stops both.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { startBao } from '../src/vault/dev-server.ts';

const root = resolve(import.meta.dirname, '..');
const port = process.env['KEYGATE_PORT'] ?? '8080';

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
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  },
);

const base = `http://127.0.0.1:${port}`;
// Wait for Keygate to answer before printing how to call it.
for (let i = 0; i < 100; i += 1) {
  const ok = await fetch(`${base}/readyz`).then(
    (r) => r.ok,
    () => false,
  );
  if (ok || keygate.exitCode !== null) break;
  await new Promise((r) => setTimeout(r, 100));
}

console.log(`
  Keygate (dev)      ${base}
  OpenBao (dev, in memory) ${bao.address}   root token: ${bao.token}
  Admin token        ${adminToken}

  Try:
    curl ${base}/readyz
    curl -X PUT ${base}/v1/tenants/acme/credentials/anthropic \\
      -H "authorization: Bearer ${adminToken}" -H 'content-type: application/json' \\
      -d '{"apiKey":"sk-ant-your-key"}'
    curl -X POST ${base}/v1/keys -H "authorization: Bearer ${adminToken}" \\
      -H 'content-type: application/json' -d '{"tenants":["acme"]}'
    curl ${base}/proxy/acme/anthropic/v1/models -H 'x-api-key: <the kg_ key from above>'

  Ctrl-C stops Keygate and OpenBao.
`);

let stopping = false;
const stop = async (code: number) => {
  if (stopping) return;
  stopping = true;
  if (keygate.exitCode === null) {
    keygate.kill('SIGTERM');
    await new Promise((r) => keygate.once('exit', r));
  }
  await bao.stop();
  process.exit(code);
};
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));
keygate.on('exit', (code) => void stop(code ?? 1));
