import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser, BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openConnectPage } from '../support/browser.ts';
import { launchChromium } from '../support/chromium.ts';
import { offeredLink, startConnectStack, type ConnectStack } from '../support/connect.ts';
import { uniqueTenant } from '../support/store.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

/**
 * The connect page in a real browser (issue 24): what Chromium sends with the page's own
 * form (Origin: null under no-referrer, Sec-Fetch-Site: same-origin, the SameSite=Strict
 * cookie) is accepted, and a form auto-submitted from another site (`localhost` against
 * Keygate on `127.0.0.1`) or a sibling origin (another port) is refused, even when the
 * victim's browser opened the page before: the attacker's copy of the form, holding the
 * URL, the code and a token of its own, spends nothing.
 */
describe('the connect page in Chromium', () => {
  let stack: ConnectStack;
  let browser: Browser;
  let evil: Server;
  let evilPort: number;
  let attack = '';

  beforeAll(async () => {
    browser = await launchChromium();
    stack = await startConnectStack();
    // The attacker's site: a page that posts the connect form as soon as it loads.
    evil = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(attack);
    });
    await new Promise<void>((resolve) => evil.listen(0, resolve));
    evilPort = (evil.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await browser?.close();
    evil?.closeAllConnections();
    await new Promise((resolve) => evil?.close(resolve));
    await stack?.close();
  });

  const offer = (tenant: string) => offeredLink(stack.keygate.url, stack.key, tenant);

  async function confirmInPage(context: BrowserContext, url: string, code: string) {
    const page = await context.newPage();
    const opened = await page.goto(url);
    expect(opened?.status()).toBe(200);
    await page.fill('input[name=code]', code);
    const posted = page.waitForRequest((r) => r.method() === 'POST' && r.url() === url);
    await Promise.all([page.waitForURL(/\/oauth\/callback\?/), page.click('button[type=submit]')]);
    return { page, headers: await (await posted).allHeaders() };
  }

  it('the person: opens the link, types the code, and is connected', async () => {
    const tenant = uniqueTenant('chromium');
    const { url, code } = await offer(tenant);
    const context = await browser.newContext();
    const { page, headers } = await confirmInPage(context, url, code);
    expect(headers['sec-fetch-site']).toBe('same-origin');
    expect(await page.title()).toMatch(/^Connected remote/);
    expect((await stack.keygate.store.read(credentialRef(tenant, 'remote'))).status).toBe('active');
    await context.close();
  });

  for (const [what, origin] of [
    ['another site', () => `http://localhost:${evilPort}`],
    ['a sibling origin (same host, another port)', () => `http://127.0.0.1:${evilPort}`],
  ] as const) {
    it(`the attacker: a form auto-submitted from ${what} is refused and spends nothing, even after the victim opened the page`, async () => {
      const tenant = uniqueTenant('attacked');
      const { url, code } = await offer(tenant);
      const context = await browser.newContext();
      const victim = await context.newPage();
      expect((await victim.goto(url))?.status()).toBe(200);

      // The attacker holds URL and code, and loads the page itself for a token of its own.
      const own = await openConnectPage(url);
      attack = `<!doctype html><form id="f" method="post" action="${url}">${Object.entries({
        ...own.fields,
        code,
      })
        .map(([name, value]) => `<input type="hidden" name="${name}" value="${value}">`)
        .join('')}</form><script>document.getElementById('f').submit()</script>`;
      const answered = victim.waitForResponse((r) => r.url() === url && r.request().method() === 'POST');
      await victim.goto(`${origin()}/innocent`);
      const refusal = await answered;
      expect([refusal.status(), refusal.headers()['x-keygate-error']]).toEqual([403, 'connect_cross_site']);
      expect(await stack.keygate.store.has(credentialRef(tenant, 'remote'))).toBe(false);
      const stored = await stack.keygate.kv.read<Record<string, unknown>>(
        `reauth-link/${url.split('/').pop()}`,
      );
      expect(stored?.data).toMatchObject({ used: false, wrongCodes: 0 });

      // The person, on the page itself, still can.
      const { page } = await confirmInPage(context, url, code);
      expect(await page.title()).toMatch(/^Connected remote/);
      await context.close();
    });
  }
});
