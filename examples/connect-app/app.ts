// A small web app page that lets a tenant's user connect an OAuth integration through
// Keygate and come back. The app's server holds the admin token (never the browser): it
// starts the connect flow with `returnTo` pointing at its own page, sends the browser to the
// provider, and Keygate's callback sends the browser back with ?connected=<integration> or
// ?error=<code>. Keygate keeps the tokens; the app never sees them.
import { createServer, type IncomingMessage, type ServerResponse, type Server } from 'node:http';

export interface AppOptions {
  keygateUrl: string;
  adminToken: string;
  tenant: string;
  integration: string;
  port: number;
}

const escape = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

export function startApp(options: AppOptions): Promise<Server> {
  const { keygateUrl, adminToken, tenant, integration } = options;
  const appUrl = `http://127.0.0.1:${options.port}`;
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${keygateUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });

  // The page. ?connected= and ?error= say how the flow ended, but anyone can type them:
  // whether the tenant is connected is asked of Keygate, every time.
  async function page(req: IncomingMessage, res: ServerResponse) {
    const query = new URL(req.url ?? '/', appUrl).searchParams;
    const answer = await admin('GET', `/v1/tenants/${tenant}/credentials/${integration}`);
    const credential = answer.ok
      ? ((await answer.json()) as { status: string; expiresAt: string | null })
      : null;
    const status = credential
      ? `<p id="status">Connected: status ${escape(credential.status)}, token valid until ${escape(credential.expiresAt ?? '-')}.</p>`
      : '<p id="status">Not connected.</p>';
    const outcome = query.get('error')
      ? `<p id="outcome">The connection failed: ${escape(query.get('error') ?? '')}. Try again.</p>`
      : query.get('connected')
        ? `<p id="outcome">Back from ${escape(query.get('connected') ?? '')}.</p>`
        : '';
    res.writeHead(200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'",
    });
    res.end(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Connect ${escape(integration)}</title></head>
<body style="font-family: system-ui; max-width: 40em; margin: 3em auto">
  <h1>${escape(integration)} for ${escape(tenant)}</h1>
  ${outcome}
  ${status}
  <form method="post" action="/connect"><button type="submit">Connect ${escape(integration)}</button></form>
</body></html>`);
  }

  // The button: Keygate makes the authorization URL (state, PKCE) and will send the browser
  // back to returnTo, which must be under oauth.allowedReturnUrls in Keygate's configuration.
  async function connect(res: ServerResponse) {
    const started = await admin('POST', `/v1/tenants/${tenant}/connect/${integration}`, {
      returnTo: `${appUrl}/`,
    });
    if (!started.ok) {
      const { error } = (await started.json()) as { error: { message: string } };
      res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`Keygate refused to start the connection: ${error.message}`);
      return;
    }
    const { authorizationUrl } = (await started.json()) as { authorizationUrl: string };
    res.writeHead(303, { location: authorizationUrl }).end();
  }

  const server = createServer((req, res) => {
    const handled =
      req.method === 'POST' && req.url === '/connect'
        ? connect(res)
        : req.method === 'GET' && (req.url ?? '/').split('?')[0] === '/'
          ? page(req, res)
          : Promise.resolve(void res.writeHead(404).end());
    handled.catch((err: Error) => {
      if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
      res.end(`Something failed: ${err.message}`);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, '127.0.0.1', () => resolve(server));
  });
}
