import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';

export interface McpUpstream {
  /** Base URL of the server; the MCP endpoint is `${url}/mcp`. */
  url: string;
  /** Every request's method, path and MCP headers, as the upstream saw them. */
  received: Array<{ method: string; path: string; headers: IncomingMessage['headers']; body: string }>;
  stop(): Promise<void>;
}

/**
 * A remote MCP server as the real SDK makes one (Streamable HTTP, stateless), behind
 * OAuth: a request without a live access token (as `isValidToken` judges) gets 401,
 * like a real remote MCP server would. Its one tool, `whoami`, answers "ok".
 */
export async function startMcpUpstream(isValidToken: (token: string) => boolean): Promise<McpUpstream> {
  const received: McpUpstream['received'] = [];
  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    received.push({ method: req.method ?? '', path: req.url ?? '', headers: req.headers, body });
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !isValidToken(token)) {
      res.writeHead(401, {
        'www-authenticate': 'Bearer error="invalid_token"',
        'content-type': 'text/plain',
      });
      res.end('invalid token');
      return;
    }
    const server = new McpServer({ name: 'test-upstream', version: '1.0.0' });
    server.registerTool('whoami', { description: 'Says ok' }, async () => ({
      content: [{ type: 'text', text: 'ok' }],
    }));
    // Without a sessionIdGenerator the transport is stateless: one server per request.
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    await server.connect(transport);
    await transport.handleRequest(req, res, body === '' ? undefined : JSON.parse(body));
  };
  const http = createServer((req, res) => {
    handle(req, res).catch(() => {
      if (!res.headersSent) res.writeHead(500);
      res.end();
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const { port } = http.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    stop: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
}
