// An MCP server (the official SDK, Streamable HTTP) whose tool calls an API through Keygate
// for the tenant of the user who calls it. The server holds one Keygate key and no provider
// token at all: Keygate injects the tenant's own token. When the tenant has not connected
// the API yet (or its token died for good), Keygate answers 401 reauth_required with a
// single-use connect link; the tool passes it to the MCP client as a URL elicitation
// (error -32042), and the client shows the user the link. After the user connects, the
// client calls the tool again and it works.
import { randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { AuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';

export interface McpServerOptions {
  keygateUrl: string;
  /** A Keygate key for the tenants this server serves (e.g. `keys create --all-tenants -i demo-oauth`). */
  keygateKey: string;
  /** The API behind Keygate that the tool calls (a configured integration). */
  integration: string;
  /** Who is calling: a bearer token of your users → their tenant. Yours would verify an OAuth token. */
  tenantOf: (bearerToken: string) => string | undefined;
  port: number;
}

/** The MCP server for one request; the caller's tenant comes in `authInfo` (stateless mode). */
function mcpServer(options: McpServerOptions): McpServer {
  const server = new McpServer({ name: 'keygate-example', version: '1.0.0' });
  server.registerTool(
    'profile',
    {
      description: `Your profile at ${options.integration}, read with your organisation's connected account`,
    },
    // A tool without arguments gets only `extra`.
    async (extra) => {
      const tenant = extra.authInfo?.extra?.['tenant'] as string;
      const res = await fetch(`${options.keygateUrl}/proxy/${tenant}/${options.integration}/me`, {
        headers: { authorization: `Bearer ${options.keygateKey}` },
      });
      if (res.status === 401 && res.headers.get('x-keygate-error') === 'reauth_required') {
        // application/problem+json: connect_url (single use, short-lived) and the code to enter there.
        const problem = (await res.json()) as { connect_url: string; confirmation_code: string };
        throw new UrlElicitationRequiredError([
          {
            mode: 'url',
            url: problem.connect_url,
            elicitationId: randomUUID(),
            message: `Connect ${options.integration} for ${tenant}: open the link and enter the code ${problem.confirmation_code}, then try again.`,
          },
        ]);
      }
      if (!res.ok) {
        return {
          isError: true,
          content: [{ type: 'text', text: `${options.integration} answered ${res.status}` }],
        };
      }
      return { content: [{ type: 'text', text: JSON.stringify(await res.json()) }] };
    },
  );
  return server;
}

/** Streamable HTTP on POST /mcp, each request authenticated by its bearer token. */
export function startMcpServer(options: McpServerOptions): Promise<Server> {
  const http = createServer(async (req: IncomingMessage & { auth?: AuthInfo }, res) => {
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    const tenant = options.tenantOf(token);
    if (req.url !== '/mcp' || !tenant) {
      res.writeHead(req.url === '/mcp' ? 401 : 404, { 'www-authenticate': 'Bearer' }).end();
      return;
    }
    // What the SDK's bearer-auth middleware would set: the tool handlers read it as extra.authInfo.
    req.auth = { token, clientId: tenant, scopes: [], extra: { tenant } };
    const server = mcpServer(options);
    // No session id generator: stateless, a server and a transport per request.
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res);
    } catch {
      if (!res.headersSent) res.writeHead(500).end();
    }
  });
  return new Promise((resolve, reject) => {
    http.once('error', reject);
    http.listen(options.port, '127.0.0.1', () => resolve(http));
  });
}
