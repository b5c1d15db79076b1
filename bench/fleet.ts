// What fleet agreement costs and how fast it is, with three Keygates on one Vault:
//   npm run bench:fleet
// Prints, per replica: Vault requests per second at idle with the changes record polled
// (fleet.pollSeconds 1) and without (0); Vault requests per 1,000 proxied requests on a
// cached credential; and how long after a key is revoked through one replica the others
// refuse it. Uses VAULT_ADDR/VAULT_TOKEN when set, else its own `bao server -dev`.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import { parseConfig } from '../src/config/load.ts';
import { startKeygate, type Keygate } from '../src/keygate.ts';
import { createLogger } from '../src/observability/logger.ts';
import { benchVault } from './support/vault.ts';

const IDLE_SECONDS = Number(process.env['BENCH_IDLE_SECONDS'] ?? 20);
const LOAD_SECONDS = Number(process.env['BENCH_SECONDS'] ?? 10);
const RATE = Number(process.env['BENCH_RATE'] ?? 1000);
const REVOCATIONS = Number(process.env['BENCH_REVOCATIONS'] ?? 10);
const ADMIN = 'admin-token-bench-fleet-0123456789';

const { target, stop: stopBao } = await benchVault();

const origin = createServer((req, res) => {
  req.resume();
  req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}'));
});
await new Promise<void>((resolve) => origin.listen(0, '127.0.0.1', resolve));
const originUrl = `http://127.0.0.1:${(origin.address() as AddressInfo).port}`;
const prefix = `bench-fleet-${Date.now().toString(36)}`;
const logger = createLogger({ silent: true });

async function fleet(pollSeconds: number): Promise<Keygate[]> {
  const yaml = `server: { host: 127.0.0.1, port: 0 }
vault: { prefix: ${prefix} }
admin: { token: ${ADMIN} }
fleet: { pollSeconds: ${pollSeconds} }
log: { level: warn }
integrations:
  svc: { baseUrl: ${originUrl}, auth: { type: api_key }, inject: { header: x-api-key, format: "{token}" } }
`;
  const config = parseConfig(yaml, { VAULT_ADDR: target.address, VAULT_TOKEN: target.token });
  return Promise.all([0, 1, 2].map(() => startKeygate(config, logger)));
}

const admin = (k: Keygate, method: string, path: string, body?: unknown) =>
  fetch(`${k.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });

async function idleRate(replicas: Keygate[]): Promise<number[]> {
  const before = replicas.map((k) => k.vault.requests);
  await new Promise((resolve) => setTimeout(resolve, IDLE_SECONDS * 1000));
  return replicas.map((k, i) => (k.vault.requests - (before[i] as number)) / IDLE_SECONDS);
}

const results: Record<string, unknown> = {};
for (const pollSeconds of [0, 1]) {
  const replicas = await fleet(pollSeconds);
  await new Promise((resolve) => setTimeout(resolve, 2000)); // start-up reads settle
  results[`idle Vault req/s per replica, fleet.pollSeconds ${pollSeconds}`] = (await idleRate(replicas)).map(
    (r) => Number(r.toFixed(2)),
  );
  if (pollSeconds === 1) {
    const [a, b] = replicas as [Keygate, Keygate, Keygate];
    await admin(a, 'PUT', '/v1/tenants/bench/credentials/svc', { apiKey: 'sk-bench-0001' });
    const { key } = (await (await admin(a, 'POST', '/v1/keys', { tenants: ['bench'] })).json()) as {
      key: string;
    };
    const headers = { authorization: `Bearer ${key}` };
    const url = `${b.url}/proxy/bench/svc/ping`;
    await autocannon({ url, headers, connections: 10, duration: 1 });
    const beforeLoad = b.vault.requests;
    const run = await autocannon({
      url,
      headers,
      connections: 10,
      overallRate: RATE,
      duration: LOAD_SECONDS,
    });
    const vaultDuringLoad = b.vault.requests - beforeLoad;
    const total = run.requests.total ?? run.requests.average * LOAD_SECONDS;
    const polls = LOAD_SECONDS / pollSeconds;
    results['proxied req/s (paced) on one replica'] = Math.round(run.requests.average);
    results['Vault requests per 1,000 proxied requests (cached credential), polls included'] = Number(
      ((vaultDuringLoad / total) * 1000).toFixed(2),
    );
    results['of which polls of the changes record'] = Number(((polls / total) * 1000).toFixed(2));

    const took: number[] = [];
    for (let i = 0; i < REVOCATIONS; i += 1) {
      const created = (await (await admin(a, 'POST', '/v1/keys', { tenants: ['bench'] })).json()) as {
        id: string;
        key: string;
      };
      const h = { authorization: `Bearer ${created.key}` };
      if ((await fetch(url, { headers: h })).status !== 200) throw new Error('a new key was refused');
      await admin(a, 'DELETE', `/v1/keys/${created.id}`);
      const at = performance.now();
      while ((await fetch(url, { headers: h })).status !== 401) await new Promise((r) => setTimeout(r, 10));
      took.push(performance.now() - at);
    }
    took.sort((x, y) => x - y);
    results['revocation seen by another replica, ms (min / median / max)'] = [
      Math.round(took[0] as number),
      Math.round(took[Math.floor(took.length / 2)] as number),
      Math.round(took.at(-1) as number),
    ];
  }
  await Promise.all(replicas.map((k) => k.close()));
}
console.log(JSON.stringify(results, null, 2));
origin.close();
await stopBao();
