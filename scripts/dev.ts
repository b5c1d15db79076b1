// `npm run dev [-- --config FILE] [--persist]`: OpenBao (in memory, or with --persist on
// disk under .keygate-dev/), initialised with vault/scripts/init-vault.sh; the demo servers
// (scripts/dev/demo-servers.ts: an upstream "echo", an OAuth provider "demo-oauth", stand-ins
// for the OpenAI and Anthropic APIs, a webhook relay), and Keygate, all on loopback, with
// credentials and a Keygate key in place so the printed requests and the examples work offline. Ports are
// checked before anything starts; every exit path (Ctrl-C, SIGTERM, an error, the parent
// dying) stops OpenBao and the servers.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfigFile } from '../src/config/load.ts';
import type { Config } from '../src/config/schema.ts';
import { startKeygate, type Keygate } from '../src/keygate.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startBao } from '../src/vault/dev-server.ts';
import { banner, renewalAfterSeconds } from './dev/banner.ts';
import { DEMO_TOKEN_SECONDS, startDemoServers } from './dev/demo-servers.ts';
import { startPersistentBao } from './dev/persistent-bao.ts';
import { busyPorts } from './dev/ports.ts';

const root = resolve(import.meta.dirname, '..');
const options = new Command('npm run dev --')
  .description('Keygate for development: OpenBao, demo servers and Keygate on loopback')
  .option(
    '-c, --config <file>',
    'the configuration (default: KEYGATE_CONFIG, else examples/keygate.dev.yaml)',
  )
  .option(
    '--persist',
    'keep OpenBao data (credentials, keys, admin token) in KEYGATE_DEV_DIR across restarts',
  )
  .parse(process.argv.slice(2), { from: 'user' })
  .opts<{ config?: string; persist?: boolean }>();

const configFile = resolve(
  options.config ?? process.env['KEYGATE_CONFIG'] ?? `${root}/examples/keygate.dev.yaml`,
);
const devDir = resolve(process.env['KEYGATE_DEV_DIR'] ?? `${root}/.keygate-dev`);
const port = Number(process.env['KEYGATE_PORT'] ?? 8080);
const vaultPort = Number(process.env['KEYGATE_DEV_VAULT_PORT'] ?? (options.persist ? 8200 : 0));
const clusterPort = Number(process.env['KEYGATE_DEV_VAULT_CLUSTER_PORT'] ?? vaultPort + 1);
// Where the webhook-receiver example listens; the dev stack's relay passes deliveries there.
const webhookReceiverPort = Number(process.env['KEYGATE_DEV_WEBHOOK_PORT'] ?? 8091);

// Every exit path goes through here, once: what was started is stopped, last first.
const stoppers: (() => Promise<unknown> | unknown)[] = [];
let exiting = false;
async function exit(code: number, message?: string): Promise<never> {
  if (!exiting) {
    exiting = true;
    if (message) console.error(`dev: ${message}`);
    for (const stop of stoppers.reverse()) await Promise.resolve(stop()).catch(() => {});
    process.exit(code);
  }
  return new Promise<never>(() => {});
}
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void exit(0));
process.on('uncaughtException', (err) => void exit(1, err.stack ?? String(err)));
process.on(
  'unhandledRejection',
  (err) => void exit(1, err instanceof Error ? (err.stack ?? err.message) : String(err)),
);
// The parent (npm, a terminal) died without a signal reaching us: we are re-parented.
const parent = process.ppid;
setInterval(() => process.ppid !== parent && void exit(0), 500).unref();

if (!existsSync(configFile))
  await exit(2, `no configuration at ${configFile}; pass --config FILE or set KEYGATE_CONFIG`);
const busy = await busyPorts({
  'Keygate, KEYGATE_PORT': port,
  'OpenBao, KEYGATE_DEV_VAULT_PORT': vaultPort,
  ...(options.persist ? { 'OpenBao cluster, KEYGATE_DEV_VAULT_CLUSTER_PORT': clusterPort } : {}),
});
if (busy.length > 0) {
  await exit(
    2,
    `port ${busy.join(' and ')} is busy: is another \`npm run dev\` running? Stop it, or choose others (KEYGATE_PORT=8081 KEYGATE_DEV_VAULT_PORT=8300 npm run dev). Nothing was started.`,
  );
}

const demo = await startDemoServers(webhookReceiverPort);
stoppers.push(() => demo.stop());

mkdirSync(devDir, { recursive: true, mode: 0o700 });
const bao = options.persist
  ? await startPersistentBao(resolve(devDir, 'openbao'), vaultPort, clusterPort)
  : await startBao({ port: vaultPort || undefined });
stoppers.push(() => bao.stop());
const init = spawnSync('bash', [resolve(root, 'vault/scripts/init-vault.sh')], {
  env: { ...process.env, VAULT_ADDR: bao.address, VAULT_TOKEN: bao.token },
  encoding: 'utf8',
});
if (init.status !== 0) await exit(1, `init-vault.sh failed:\n${init.stderr}`);
const approle = Object.fromEntries(
  init.stdout
    .trim()
    .split('\n')
    .map((line) => line.split('=', 2) as [string, string]),
);

// With --persist the admin token is kept beside the data, so it is the same after a restart.
const tokenFile = resolve(devDir, 'admin-token');
const adminToken =
  process.env['KEYGATE_ADMIN_TOKEN'] ||
  (options.persist && existsSync(tokenFile) ? readFileSync(tokenFile, 'utf8').trim() : '') ||
  `kga_${randomBytes(24).toString('base64url')}`;
if (options.persist) writeFileSync(tokenFile, `${adminToken}\n`, { mode: 0o600 });

const env = {
  ...process.env,
  VAULT_ADDR: bao.address,
  VAULT_TOKEN: '',
  VAULT_ROLE_ID: approle['VAULT_ROLE_ID'],
  VAULT_SECRET_ID: approle['VAULT_SECRET_ID'],
  KEYGATE_ADMIN_TOKEN: adminToken,
  KEYGATE_PORT: String(port),
  ...demo.env,
};
let keygate: Keygate;
let config: Config;
try {
  config = loadConfigFile(configFile, env);
  keygate = await startKeygate(config, createLogger({ level: config.log.level }));
} catch (err) {
  await exit(err instanceof Error && err.name === 'ConfigError' ? 2 : 1, (err as Error).message);
  throw err;
}
stoppers.push(() => keygate.close());

const base = keygate.url;
const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${adminToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  if (!res.ok) throw new Error(`${method} ${path} answered ${res.status}: ${await res.text()}`);
  return (await res.json()) as Record<string, unknown>;
};
// The demo credential and key: made once (kept with --persist), shown in the banner.
const keyFile = resolve(devDir, 'dev-key');
let key = options.persist && existsSync(keyFile) ? readFileSync(keyFile, 'utf8').trim() : '';
if (key === '' || !(await keygate.keys.verify(key).catch(() => undefined))) {
  await admin('PUT', '/v1/tenants/acme/credentials/echo', {
    apiKey: `demo-${randomBytes(8).toString('hex')}`,
  });
  key = String((await admin('POST', '/v1/keys', { name: 'dev', tenants: ['acme'] }))['key']);
  if (options.persist) writeFileSync(keyFile, `${key}\n`, { mode: 0o600 });
}
// The stand-ins make a new API key each start: acme's credentials for them follow.
for (const [integration, apiKey] of [
  ['demo-openai', demo.openai.apiKey],
  ['demo-anthropic', demo.anthropic.apiKey],
] as const) {
  if (config.integrations[integration]) {
    await admin('PUT', `/v1/tenants/acme/credentials/${integration}`, { apiKey });
  }
}

console.log(
  banner({
    base,
    bao: {
      address: bao.address,
      token: bao.token,
      persisted: options.persist ? resolve(devDir, 'openbao') : undefined,
    },
    adminToken,
    echoUrl: demo.echoUrl,
    oauthUrl: demo.oauthUrl,
    openaiUrl: demo.openai.url,
    anthropicUrl: demo.anthropic.url,
    tokenSeconds: DEMO_TOKEN_SECONDS,
    renewalSeconds: renewalAfterSeconds(DEMO_TOKEN_SECONDS, config.refresh),
    key,
    configFile,
  }),
);
