// Runs the app page (app.ts) for tenant initech and the dev stack's demo OAuth provider
// (which consents at once), then plays the user's browser through it: load the page, press
// Connect, follow the redirects to the provider and back through Keygate to the page, which
// now says the tenant is connected. Exits 0 when it does. With --serve the app stays up for
// you to open in a browser (http://127.0.0.1:8092/), until Ctrl-C.
//
// The app's address must be allowed as a returnTo: examples/keygate.dev.yaml lists
// http://127.0.0.1:8092/ (KEYGATE_DEV_APP_PORT moves it) under oauth.allowedReturnUrls.
import { startApp } from './app.ts';

const KEYGATE_URL = process.env.KEYGATE_URL ?? 'http://127.0.0.1:8080';
const ADMIN_TOKEN = process.env.KEYGATE_ADMIN_TOKEN ?? '';
const PORT = Number(process.env.KEYGATE_DEV_APP_PORT ?? 8092);
const TENANT = 'initech';
const INTEGRATION = 'demo-oauth';
if (!ADMIN_TOKEN) {
  console.error('Set KEYGATE_URL and KEYGATE_ADMIN_TOKEN to what `npm run dev` printed.');
  process.exit(2);
}

const server = await startApp({
  keygateUrl: KEYGATE_URL,
  adminToken: ADMIN_TOKEN,
  tenant: TENANT,
  integration: INTEGRATION,
  port: PORT,
});
const appUrl = `http://127.0.0.1:${PORT}/`;

if (process.argv.includes('--serve')) {
  console.log(`open ${appUrl} (Ctrl-C stops)`);
  process.once('SIGINT', () => server.close());
} else {
  // Start from "not connected", so the page has something to show.
  await fetch(`${KEYGATE_URL}/v1/tenants/${TENANT}/credentials/${INTEGRATION}`, {
    method: 'DELETE',
    headers: { authorization: `Bearer ${ADMIN_TOKEN}` },
  });
  const statusOf = (html: string) => /<p id="status">([^<]*)<\/p>/.exec(html)?.[1];
  console.log(`page: ${statusOf(await (await fetch(appUrl)).text())}`);

  // The browser: press Connect (a form POST), then follow each redirect, as a browser does.
  let res = await fetch(new URL('/connect', appUrl), { method: 'POST', redirect: 'manual' });
  for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 10; hops += 1) {
    const next = new URL(res.headers.get('location') ?? '', res.url || appUrl);
    console.log(`${res.status} -> ${next.origin}${next.pathname}`);
    res = await fetch(next, { redirect: 'manual' });
  }
  const html = await res.text();
  const outcome = /<p id="outcome">([^<]*)<\/p>/.exec(html)?.[1];
  console.log(`page: ${outcome} ${statusOf(html)}`);
  server.close();
  process.exit(res.url.startsWith(appUrl) && statusOf(html)?.startsWith('Connected: status active') ? 0 : 1);
}
