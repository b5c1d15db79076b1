import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { launchChromium, SCREENSHOTS } from '../support/chromium.ts';
import { jsonFetch } from '../support/http.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startRateLimitedProvider, type RateLimitedProvider } from '../support/rate-limited-provider.ts';
import { providerIntegration } from '../support/refresh.ts';
import { waitFor } from '../support/wait.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-console-canary-5dQ2rT8w';
const API_KEY = 'sk-console-canary-api-key-W4b9';
const HOSTILE = '<img src=x id=pwned onerror="document.title=1">';

describe('the ops console in Chromium: GET /console', () => {
  let provider: OAuthProvider;
  let metered: RateLimitedProvider; // plays Anthropic, so a budget is learned
  let keygate: TestKeygate;
  let browser: Browser;
  let page: Page;
  /** Script errors and CSP reports: any one fails the run (a refused fetch is not one). */
  const problems: string[] = [];
  const secrets: string[] = [ADMIN, API_KEY];
  const admin = (method: string, path: string, body?: unknown) =>
    jsonFetch(`${keygate.url}${path}`, method, body, ADMIN);
  const shot = (name: string) => page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
  const rows = () => page.locator('#inventory-rows tr[data-tenant]');
  const row = (tenant: string, integration: string, account = 'default') =>
    page.locator(
      `#inventory-rows tr[data-tenant="${tenant}"][data-integration="${integration}"][data-account="${account}"]`,
    );
  const feed = (event: string, tenant: string) =>
    page.locator(`#event-list li[data-event="${event}"]`, { hasText: tenant });

  beforeAll(async () => {
    mkdirSync(SCREENSHOTS, { recursive: true });
    browser = await launchChromium();
    provider = await startOAuthProvider({ expiresIn: 3600 });
    metered = await startRateLimitedProvider({ style: 'anthropic', limit: 5, windowMs: 600_000 });
    keygate = await startTestKeygate(
      `vault: { prefix: kg-console-${Math.random().toString(36).slice(2, 8)} }
events: { heartbeatSeconds: 1 }
refresh: { minBackoffMs: 20 }
integrations:
${providerIntegration('crm', provider, `      authorizationUrl: ${provider.url}/authorize\n`)}
  anthropic: { template: anthropic, baseUrl: ${metered.origin} }
`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token, KEYGATE_ADMIN_TOKEN: ADMIN },
    );
    // The seeded fleet: three tenants, both auth types, every status.
    const put = (tenant: string, integration: string, body: unknown) =>
      admin('PUT', `/v1/tenants/${tenant}/credentials/${integration}`, body).then((r) => {
        expect(r.status).toBe(200);
      });
    for (const tenant of ['acme', 'beta', 'gamma']) {
      const pair = provider.issue(tenant);
      secrets.push(pair.accessToken, pair.refreshToken);
      await put(tenant, 'crm', { ...pair, expiresIn: 3600 });
    }
    const work = provider.issue('acme-work');
    secrets.push(work.accessToken, work.refreshToken);
    await put('acme', 'crm/accounts/work', { ...work, expiresIn: 3600 });
    await put('acme', 'anthropic', { apiKey: API_KEY });
    await put('delta', 'anthropic', { apiKey: `${API_KEY}-2` });
    // Two calls through Keygate: delta's Anthropic budget is learned (2 of 5 spent).
    const created = await admin('POST', '/v1/keys', { tenants: ['delta'] });
    const { key } = (await created.json()) as { key: string };
    secrets.push(key);
    for (let i = 0; i < 2; i += 1) {
      const res = await fetch(`${keygate.url}/proxy/delta/anthropic/v1/messages`, {
        headers: { 'x-api-key': key },
      });
      expect(res.status).toBe(200);
    }
    // Statuses the way they happen: a refresh refused for good, and one that ran out of retries.
    provider.inject({ status: 400, body: { error: 'invalid_grant' } });
    expect((await admin('POST', '/v1/tenants/beta/credentials/crm/refresh')).status).toBe(401);
    provider.inject({ status: 503 }, { status: 503 }, { status: 503 }, { status: 503 });
    expect((await admin('POST', '/v1/tenants/gamma/credentials/crm/refresh')).status).toBe(502);
    secrets.push(provider.clientSecret);

    const context = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: keygate.url });
    page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) problems.push(m.text());
    });
    page.on('pageerror', (err) => problems.push(err.message));
  });
  afterAll(async () => {
    await browser?.close();
    await keygate?.close();
    await provider?.stop();
    await metered?.stop();
  });

  it('serves the page with a strict CSP, no framing, and nothing from another origin', async () => {
    const requests: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    const res = await page.goto(`${keygate.url}/console`);
    expect(res?.status()).toBe(200);
    const headers = res?.headers() ?? {};
    expect(headers['x-frame-options']).toBe('DENY');
    const csp = headers['content-security-policy'] ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).toContain("require-trusted-types-for 'script'");
    expect(csp).not.toContain('unsafe');
    await page.locator('#sign-in').waitFor();
    expect(requests.length).toBeGreaterThan(3);
    for (const url of requests) expect(new URL(url).origin).toBe(keygate.url);
    // Any HTML sink refuses a string: Trusted Types with no policy at all.
    const sink = await page.evaluate(() => {
      try {
        (globalThis as any).document.body.insertAdjacentHTML('beforeend', '<b>x</b>');
        return 'inserted';
      } catch (err) {
        return (err as Error).name;
      }
    });
    expect(sink).toBe('TypeError');
    expect(problems.splice(0).join('\n')).toContain('TrustedHTML'); // the refusal, reported on purpose
    await shot('sign-in');
  });

  it('refuses a wrong admin token and keeps nothing of it', async () => {
    await page.fill('#token', 'not-the-admin-token');
    await page.click('#sign-in button[type=submit]');
    await expect.poll(() => page.textContent('#sign-in-error')).toContain('refused');
    expect(await page.isVisible('#signed-in')).toBe(false);
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.length)).toBe(0);
    await shot('sign-in-refused');
  });

  it('signs in and shows the seeded inventory; the token stays in sessionStorage only', async () => {
    await page.fill('#token', ADMIN);
    await page.click('#sign-in button[type=submit]');
    await expect.poll(() => rows().count()).toBe(6);
    expect(await row('acme', 'crm').textContent()).toContain('oauth2');
    expect(await row('acme', 'crm', 'work').locator('td').nth(2).textContent()).toBe('work');
    expect(await row('beta', 'crm').locator('.status').textContent()).toBe('needs reauth');
    expect(await row('gamma', 'crm').locator('.status').textContent()).toBe('refresh failed');
    expect(await row('delta', 'anthropic').locator('td').nth(3).textContent()).toBe('api_key');
    // The learned budget, this replica's: the tightest quota, every quota in the title.
    const budget = row('delta', 'anthropic').locator('small.budget');
    expect(await budget.textContent()).toBe('requests 3/5');
    expect(await budget.getAttribute('title')).toMatch(/tokens: 99\d{4} of 1000000 left/);
    expect(await row('acme', 'crm').locator('small.budget').count()).toBe(0);
    // Only OAuth credentials can be refreshed; only connectable integrations get a link.
    expect(await row('delta', 'anthropic').getByRole('button', { name: 'Refresh' }).count()).toBe(0);
    expect(await row('acme', 'crm').getByRole('button', { name: 'Connect link' }).count()).toBe(1);
    const where = await page.evaluate(() => {
      const g = globalThis as any;
      return {
        url: g.location.href,
        cookie: g.document.cookie,
        stored: g.sessionStorage.getItem('keygate.adminToken'),
      };
    });
    expect(where).toEqual({ url: `${keygate.url}/console?view=inventory`, cookie: '', stored: ADMIN });
    await shot('inventory');
    // The picture in docs/console.md: the page without the empty space below it.
    await page.locator('#signed-in').screenshot({ path: join(SCREENSHOTS, 'docs-inventory.png') });
  });

  it('filters by status, integration and free text, and keeps the filter in the URL', async () => {
    await page.selectOption('[name=status]', 'needs_reauth');
    await expect.poll(() => rows().count()).toBe(1);
    expect(await rows().first().getAttribute('data-tenant')).toBe('beta');
    expect(page.url()).toContain('status=needs_reauth');
    await shot('inventory-filtered');
    // A reload (or a shared link) comes back to the same filter, still signed in.
    await page.reload();
    await expect.poll(() => rows().count()).toBe(1);
    expect(await page.inputValue('[name=status]')).toBe('needs_reauth');

    await page.selectOption('[name=status]', '');
    await page.selectOption('[name=integration]', 'anthropic');
    await expect.poll(() => rows().count()).toBe(2);
    await page.selectOption('[name=integration]', '');
    await page.fill('[name=q]', 'gam');
    await page.press('[name=q]', 'Enter');
    await expect.poll(() => rows().count()).toBe(1);
    expect(await rows().first().getAttribute('data-tenant')).toBe('gamma');
    expect(page.url()).toContain('q=gam');
    await page.fill('[name=q]', '');
    await page.press('[name=q]', 'Enter');
    await expect.poll(() => rows().count()).toBe(6);
  });

  it('copies a connect link for an OAuth integration', async () => {
    await row('acme', 'crm').getByRole('button', { name: 'Connect link' }).click();
    await expect.poll(() => page.textContent('#notice')).toContain('Connect link for acme / crm');
    const field = page.locator('#notice input.copy-value');
    const link = await field.inputValue();
    expect(link.startsWith(`${provider.url}/authorize?`)).toBe(true);
    await page.locator('#notice button.copy').click();
    await expect.poll(() => page.locator('#notice button.copy').textContent()).toBe('Copied');
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(link);
  });

  it('forces a refresh and watches it arrive in the live feed, newest first, with pause and a type filter', async () => {
    const before = provider.counts.refreshes;
    await row('acme', 'crm').getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => page.textContent('#notice')).toContain('Refreshed acme / crm');
    expect(provider.counts.refreshes).toBe(before + 1);
    // Another account of the same tenant and integration is its own credential.
    await row('acme', 'crm', 'work').getByRole('button', { name: 'Refresh' }).click();
    await expect.poll(() => page.textContent('#notice')).toContain('Refreshed acme / crm / work');
    secrets.push(...provider.issuedTokens());

    await page.click('#tab-events');
    await feed('refresh-success', 'acme / crm / default').waitFor();
    expect(await page.textContent('#view-events .note')).toContain('this page');
    expect(await page.textContent('#event-state')).toBe('live');
    await shot('events');

    // Paused: a new event is held (and counted), not shown; on resume it comes first.
    await page.click('#event-pause');
    expect((await admin('POST', '/v1/tenants/acme/credentials/crm/refresh')).status).toBe(200);
    await expect.poll(() => page.textContent('#event-pause')).toMatch(/^Resume \(\d+ new\)$/);
    expect(await feed('refresh-success', 'acme / crm / default').count()).toBe(1);
    await page.click('#event-pause');
    await expect.poll(() => feed('refresh-success', 'acme / crm / default').count()).toBe(2);
    const first = page.locator('#event-list li').first();
    expect(await first.getAttribute('data-event')).toMatch(/^refresh-(success|scheduled)$/);

    await page.selectOption('#event-type', 'refresh-success');
    const shown = await page
      .locator('#event-list li')
      .evaluateAll((lis) => lis.map((li) => li.dataset.event));
    expect(shown.length).toBeGreaterThanOrEqual(2);
    expect(new Set(shown)).toEqual(new Set(['refresh-success']));
    await page.selectOption('#event-type', '');
  });

  // Regression: "Create key" with every field empty made a key for every tenant in one click,
  // which the CLI refuses (`say which tenants the key is for`).
  it('refuses to create a key for no tenant named, as the CLI does', async () => {
    await page.click('#tab-keys');
    const before = ((await (await admin('GET', '/v1/keys')).json()) as { keys: unknown[] }).keys.length;
    await page.click('#key-create button[type=submit]');
    await expect.poll(() => page.textContent('#notice')).toContain('Say which tenants the key is for');
    await page.fill('[name=tenants]', '*, acme');
    await page.click('#key-create button[type=submit]');
    await expect.poll(() => page.textContent('#notice')).toContain('Enter * alone for every tenant');
    expect(await page.locator('#key-created').isVisible()).toBe(false);
    const after = ((await (await admin('GET', '/v1/keys')).json()) as { keys: unknown[] }).keys.length;
    expect(after).toBe(before);
    await page.fill('[name=tenants]', '');
  });

  it('creates a key, shows it once with a copy button, and revokes it', async () => {
    await page.click('#tab-keys');
    await page.fill('[name=name]', HOSTILE);
    await page.fill('[name=tenants]', 'acme, beta');
    await page.fill('[name=accounts]', 'default, alice');
    await page.click('#key-create button[type=submit]');
    const field = page.locator('#key-created input.copy-value');
    await field.waitFor();
    const key = await field.inputValue();
    expect(key).toMatch(/^kg_[^.]+\.[^.]+$/);
    secrets.push(key);
    const id = key.slice(3, key.indexOf('.'));
    await page.click('#key-created button.copy');
    expect(await page.evaluate(() => (globalThis as any).navigator.clipboard.readText())).toBe(key);
    // The name is text, never markup.
    const keyRow = page.locator(`#key-rows tr[data-key="${id}"]`);
    await keyRow.waitFor();
    expect(await keyRow.locator('td').nth(1).textContent()).toBe(HOSTILE);
    expect(await keyRow.locator('td').nth(4).textContent()).toBe('default, alice');
    expect(await page.locator('#pwned').count()).toBe(0);
    await shot('keys-created');

    // The key works until revoked.
    const proxied = () =>
      fetch(`${keygate.url}/proxy/acme/crm/api/ping`, { headers: { authorization: `Bearer ${key}` } });
    expect((await proxied()).status).toBe(200);
    await page.click('#key-created-done');
    expect(await page.locator('#key-created').isVisible()).toBe(false);
    expect(await page.content()).not.toContain(key.slice(key.indexOf('.') + 1));

    await keyRow.getByRole('button', { name: 'Revoke' }).click();
    await page.click('#confirm-ok');
    await expect.poll(() => keyRow.count()).toBe(0);
    await expect.poll(() => page.textContent('#notice')).toContain(`Revoked key ${id}`);
    expect((await proxied()).status).toBe(401);
    await shot('keys');
  });

  it('deletes a credential after a confirmation and says what the provider revocation did', async () => {
    await page.click('#tab-inventory');
    await expect.poll(() => rows().count()).toBe(6);
    await row('delta', 'anthropic').getByRole('button', { name: 'Delete' }).click();
    expect(await page.locator('#confirm').isVisible()).toBe(true);
    await shot('delete-confirm');
    await page.click('#confirm-ok');
    await expect.poll(() => page.textContent('#notice')).toContain('Deleted delta / anthropic / default.');
    expect(await page.textContent('#notice')).toMatch(/revoked|revocation/i);
    await expect.poll(() => rows().count()).toBe(5);
    expect((await admin('GET', '/v1/tenants/delta/credentials/anthropic')).status).toBe(404);
    await page.click('#tab-events');
    await feed('credential-deleted', 'delta').waitFor();
  });

  it('lists the integrations and the templates, without a secret', async () => {
    await page.click('#tab-integrations');
    await page.locator('#integration-rows tr[data-integration="crm"]').waitFor();
    expect(await page.locator('#integration-rows tr').count()).toBe(2);
    await page.locator('#template-rows tr[data-template="anthropic"]').waitFor();
    expect(await page.textContent('#integration-rows')).toContain(provider.url);
    await shot('integrations');
  });

  it('never shows a secret, never logs the admin token, and met no script error or CSP report', async () => {
    const everything = [await page.content(), ...keygate.lines].join('\n');
    for (const secret of secrets) expect(everything).not.toContain(secret);
    expect(problems).toEqual([]);
  });

  it('signs out on a token Keygate stops accepting', async () => {
    await page.evaluate(() =>
      (globalThis as any).sessionStorage.setItem('keygate.adminToken', 'revoked-token'),
    );
    await page.click('#tab-keys');
    await waitFor('the sign-in form', () => page.isVisible('#sign-in'));
    expect(await page.textContent('#sign-in-error')).toContain('refused');
    expect(await page.evaluate(() => (globalThis as any).sessionStorage.length)).toBe(0);
    problems.length = 0; // the 401 answers are logged by Chromium
  });
});
