// The console's inventory at fleet size, in Chromium:
//   npm run bench:console          (BENCH_CREDENTIALS=10000 BENCH_ROUNDS=9 by default)
// Seeds BENCH_CREDENTIALS credentials (real Transit encryption, real KV records) in
// OpenBao, starts Keygate on them, signs in to GET /console in headless Chromium and
// times what an operator does: open the inventory, page forward, filter by status and
// integration, search. Each figure is from the click (or reload) to the rows on screen.
// GET /v1/credentials alone is timed too, so the page's share is visible. Uses
// VAULT_ADDR/VAULT_TOKEN when set, else its own `bao server -dev`.
import { performance } from 'node:perf_hooks';
import pLimit from 'p-limit';
import type { Page } from 'playwright-core';
import { parseConfig } from '../src/config/load.ts';
import { createCredentialStore } from '../src/credentials/store.ts';
import { startKeygate } from '../src/keygate.ts';
import { createLogger } from '../src/observability/logger.ts';
import { benchVault } from './support/vault.ts';
import { VaultSession } from '../src/vault/session.ts';
import { launchChromium } from '../test/support/chromium.ts';
import { credentialRef } from '../src/credentials/ref.ts';

const COUNT = Number(process.env['BENCH_CREDENTIALS'] ?? 10_000);
const ROUNDS = Number(process.env['BENCH_ROUNDS'] ?? 9);
const ADMIN = 'bench-console-admin-token-0123456789';
const INTEGRATIONS = Array.from({ length: 10 }, (_, i) => `saas${i}`);

const { target, stop: stopBao } = await benchVault();

// Token endpoints nobody answers: nothing is due for refresh during the run anyway.
const yaml = `vault: { prefix: kg-bench-console-${Date.now().toString(36)} }
server: { host: 127.0.0.1, port: 0 }
admin: { token: ${ADMIN} }
integrations:
${INTEGRATIONS.map(
  (name) => `  ${name}:
    baseUrl: http://127.0.0.1:9/${name}
    auth: { type: oauth2, tokenUrl: http://127.0.0.1:9/token, authorizationUrl: http://127.0.0.1:9/authorize, clientId: bench, clientSecret: bench-secret }
`,
).join('')}`;
const config = parseConfig(yaml, { VAULT_ADDR: target.address, VAULT_TOKEN: target.token });
const logger = createLogger({ silent: true });

// 1. Seed: one tenant per ten credentials; 1% needs_reauth, 1% refresh_failed.
const seedVault = new VaultSession(config.vault, logger);
await seedVault.start();
const { store } = createCredentialStore(seedVault, config, logger);
const seeding = performance.now();
const limit = pLimit(16);
await Promise.all(
  Array.from({ length: COUNT }, (_, i) =>
    limit(() =>
      store.put(
        credentialRef(
          `tenant-${String(Math.floor(i / 10)).padStart(4, '0')}`,
          INTEGRATIONS[i % 10] as string,
        ),
        {
          authType: 'oauth2',
          secret: { accessToken: `bench-access-${i}`, refreshToken: `bench-refresh-${i}` },
          expiresAt: new Date(Date.now() + (2 + (i % 46)) * 3600_000).toISOString(),
          status: i % 100 === 7 ? 'needs_reauth' : i % 100 === 8 ? 'refresh_failed' : 'active',
        },
      ),
    ),
  ),
);
const seedSeconds = (performance.now() - seeding) / 1000;
seedVault.close();

// 2. Keygate on those records, and Chromium signed in to its console.
const keygate = await startKeygate(config, logger);
const browser = await launchChromium();
const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
await page.goto(`${keygate.url}/console`);
await page.fill('#token', ADMIN);
await page.click('#sign-in button[type=submit]');
await page.locator('#inventory-rows tr[data-tenant]').first().waitFor({ timeout: 120_000 });

/** In the page (a function, not a string: the console's CSP forbids eval): loads rendered > n. */
type Doc = {
  document: { getElementById(id: string): { dataset: Record<string, string | undefined> } | null };
};
const loadedAbove = (n: number) =>
  Number(
    (globalThis as unknown as Doc).document.getElementById('inventory-summary')?.dataset['loaded'] ?? 0,
  ) > n;

/** Runs `act`, then waits until the inventory has rendered the answer it caused. */
async function timed(p: Page, act: () => Promise<unknown>): Promise<number> {
  const before = Number((await p.getAttribute('#inventory-summary', 'data-loaded')) ?? 0);
  const start = performance.now();
  await act();
  await p.waitForFunction(loadedAbove, before, { timeout: 120_000, polling: 'raf' });
  return performance.now() - start;
}

async function reloadTimed(p: Page, url: string): Promise<number> {
  const start = performance.now();
  await p.goto(url);
  await p.waitForFunction(loadedAbove, 0, { timeout: 120_000, polling: 'raf' });
  return performance.now() - start;
}

const cases: Record<string, number[]> = {
  'GET /v1/inventory?limit=50 (API alone)': [],
  'open the inventory (page load, signed in)': [],
  'next page': [],
  'filter status=needs_reauth': [],
  'filter integration=saas3': [],
  'search "tenant-0421" (Enter)': [],
  'open a filtered URL (status=refresh_failed)': [],
};
const record = (name: string, ms: number) => cases[name]?.push(ms);
for (let round = 0; round < ROUNDS; round += 1) {
  const t0 = performance.now();
  const res = await fetch(`${keygate.url}/v1/inventory?limit=50`, {
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  await res.arrayBuffer();
  record('GET /v1/inventory?limit=50 (API alone)', performance.now() - t0);

  record(
    'open the inventory (page load, signed in)',
    await reloadTimed(page, `${keygate.url}/console?view=inventory`),
  );
  record('next page', await timed(page, () => page.click('#inventory-next')));
  record(
    'filter status=needs_reauth',
    await timed(page, () => page.selectOption('[name=status]', 'needs_reauth')),
  );
  await timed(page, () => page.selectOption('[name=status]', ''));
  record(
    'filter integration=saas3',
    await timed(page, () => page.selectOption('[name=integration]', 'saas3')),
  );
  await timed(page, () => page.selectOption('[name=integration]', ''));
  await page.fill('[name=q]', 'tenant-0421');
  record('search "tenant-0421" (Enter)', await timed(page, () => page.press('[name=q]', 'Enter')));
  await page.fill('[name=q]', '');
  await timed(page, () => page.press('[name=q]', 'Enter'));
  record(
    'open a filtered URL (status=refresh_failed)',
    await reloadTimed(page, `${keygate.url}/console?view=inventory&status=refresh_failed`),
  );
}

const rows = await page.locator('#inventory-rows tr[data-tenant]').count();
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? NaN;
const max = (xs: number[]) => Math.max(...xs);
console.log(
  `\nconsole inventory at ${COUNT} credentials (seeded in ${seedSeconds.toFixed(1)} s), ${ROUNDS} rounds`,
);
console.log(`last page shown: ${rows} rows\n`);
console.log('case'.padEnd(46), 'median ms'.padStart(10), 'max ms'.padStart(10));
for (const [name, xs] of Object.entries(cases)) {
  console.log(name.padEnd(46), median(xs).toFixed(0).padStart(10), max(xs).toFixed(0).padStart(10));
}

await browser.close();
await keygate.close();
await stopBao();
