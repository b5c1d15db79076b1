// `npm run dev [-- --config FILE] [--persist]`: OpenBao (in memory, or with --persist on
// disk under .keygate-dev/), initialised with vault/scripts/init-vault.sh; a demo upstream
// ("echo") and a demo OAuth provider ("demo-oauth"), and Keygate, all on loopback, with a
// credential and a Keygate key in place so the printed requests work offline. Ports are
// checked before anything starts; every exit path (Ctrl-C, SIGTERM, an error, the parent
// dying) stops OpenBao and the servers.
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { loadConfigFile } from '../src/config/load.ts';
import { startKeygate, type Keygate } from '../src/keygate.ts';
import { createLogger } from '../src/observability/logger.ts';
import { startBao } from '../src/vault/dev-server.ts';
import { startOAuthProvider } from '../test/support/oauth-provider.ts';
import { startTokenIssuer } from '../test/support/token-issuer.ts';
import { banner } from './dev/banner.ts';
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
stoppers.push(() => new Promise((r) => echo.close(r)));
const echoUrl = `http://127.0.0.1:${(echo.address() as AddressInfo).port}`;

// The demo OAuth provider: consent is a redirect back at once; tokens live 6 minutes, so
// with refresh.bufferSeconds 300 the scheduler renews them about a minute after connect.
const oauth = await startOAuthProvider({
  clientId: 'keygate-dev-client',
  authMethod: 'client_secret_post',
  expiresIn: 360,
});
stoppers.push(() => oauth.stop());

// The demo token issuer (callers.issuers): it signs an access token for tenant acme, so a
// token call can be tried beside the key (docs/identity.md).
const issuer = await startTokenIssuer({ alg: 'ES256' });
stoppers.push(() => issuer.stop());

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
  KEYGATE_DEV_ECHO_URL: echoUrl,
  KEYGATE_DEV_OAUTH_URL: oauth.url,
  KEYGATE_DEV_OAUTH_CLIENT_SECRET: oauth.clientSecret,
  KEYGATE_DEV_ISSUER_URL: issuer.issuer,
};
let keygate: Keygate;
try {
  const config = loadConfigFile(configFile, env);
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

const token = await issuer.sign({
  sub: 'dev-user',
  tenant: 'acme',
  aud: base,
  scope: 'keygate:proxy',
  exp: Math.floor(Date.now() / 1000) + 12 * 3600,
});

console.log(
  banner({
    base,
    bao: {
      address: bao.address,
      token: bao.token,
      persisted: options.persist ? resolve(devDir, 'openbao') : undefined,
    },
    adminToken,
    echoUrl,
    oauthUrl: oauth.url,
    key,
    issuer: { url: issuer.issuer, token },
    configFile,
  }),
);
