// Runs the MCP server (server.ts) and an MCP client of a user of tenant globex, who has not
// connected the demo API yet. The tool answers with a URL elicitation holding Keygate's
// connect link; the user opens it (here the program plays the user's browser: the dev
// stack's demo provider consents at once), and the tool, called again, answers. Exits 0 then.
// With --serve the server stays up (http://127.0.0.1:8093/mcp, bearer token printed) for an
// MCP client of your own, until Ctrl-C.
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import { startMcpServer } from './server.ts';
import { openAsTheUser } from './user-browser.ts';

const KEYGATE_URL = process.env.KEYGATE_URL ?? 'http://127.0.0.1:8080';
const ADMIN_TOKEN = process.env.KEYGATE_ADMIN_TOKEN ?? '';
const TENANT = 'globex';
const INTEGRATION = 'demo-oauth';
if (!ADMIN_TOKEN) {
  console.error('Set KEYGATE_URL and KEYGATE_ADMIN_TOKEN to what `npm run dev` printed.');
  process.exit(2);
}
const admin = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${KEYGATE_URL}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
    body: body === undefined ? null : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? {} : JSON.parse(text) };
};

// The server's Keygate key: every tenant, this one integration only.
const created = await admin('POST', '/v1/keys', {
  name: 'mcp-server example',
  tenants: ['*'],
  integrations: [INTEGRATION],
});
// One user, of tenant globex, known to the server by a bearer token.
const userToken = randomBytes(16).toString('hex');
const serve = process.argv.includes('--serve');
const http = await startMcpServer({
  keygateUrl: KEYGATE_URL,
  keygateKey: created.body.key,
  integration: INTEGRATION,
  tenantOf: (token) => (token === userToken ? TENANT : undefined),
  port: serve ? 8093 : 0,
});
const endpoint = `http://127.0.0.1:${(http.address() as AddressInfo).port}/mcp`;

if (serve) {
  console.log(`MCP server on ${endpoint}; send Authorization: Bearer ${userToken} (tenant ${TENANT})`);
  process.once('SIGINT', async () => {
    http.close();
    await admin('DELETE', `/v1/keys/${created.body.id}`);
  });
} else {
  try {
    // Start from "not connected", so the tool has to ask for the connection.
    await admin('DELETE', `/v1/tenants/${TENANT}/credentials/${INTEGRATION}`);
    const client = new Client(
      { name: 'example-client', version: '1.0.0' },
      { capabilities: { elicitation: { url: {} } } },
    );
    await client.connect(
      new StreamableHTTPClientTransport(new URL(endpoint), {
        requestInit: { headers: { authorization: `Bearer ${userToken}` } },
      }),
    );

    let link: { url: string; message: string } | undefined;
    try {
      await client.callTool({ name: 'profile' });
    } catch (err) {
      if (!(err instanceof UrlElicitationRequiredError)) throw err;
      // An MCP client shows this to its user: the message and the link.
      const [elicitation] = err.elicitations;
      link = { url: elicitation?.url ?? '', message: elicitation?.message ?? '' };
      console.log(`the tool asks the user to connect: ${link.message}`);
      console.log(`  ${link.url}`);
    }
    if (!link) throw new Error('the tool answered without asking for a connection');

    // The user opens the link and enters the code shown with it (user-browser.ts plays them).
    const code = /\b([A-Z0-9]{4}-[A-Z0-9]{4})\b/.exec(link.message)?.[1] ?? '';
    const status = await openAsTheUser(link.url, code);
    console.log(`the user connected ${INTEGRATION} (Keygate's callback answered ${status})`);

    const result = await client.callTool({ name: 'profile' });
    const text = (result.content as { type: string; text: string }[])[0]?.text;
    console.log(`after connecting, the tool answers: ${text}`);
    await client.close();
    process.exitCode = result.isError ? 1 : 0;
  } finally {
    http.close();
    await admin('DELETE', `/v1/keys/${created.body.id}`);
  }
}
