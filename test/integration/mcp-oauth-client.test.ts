import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startMcpUpstream, type McpUpstream } from '../support/mcp-server.ts';
import { MemoryOAuthClient } from '../support/mcp-oauth-client.ts';
import { signInAt, startOidcIssuer, type OidcIssuer } from '../support/oidc-issuer.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';

const API_KEY = 'mcp-upstream-api-key-5e1f0c9a';

/**
 * The MCP authorization spec end to end, with nothing of Keygate's on the client side:
 * the official SDK client meets Keygate's 401, reads the protected-resource metadata it
 * points at, registers with the authorization server (oidc-provider), gets a JWT access
 * token for exactly the proxied base URL (RFC 8707), and calls a tool on an MCP server
 * behind Keygate, which sees the tenant's credential and never the caller's token.
 */
describe('MCP client with OAuth through Keygate', () => {
  let as: OidcIssuer;
  let mcp: McpUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  const tenant = uniqueTenant('mcp');

  beforeAll(async () => {
    as = await startOidcIssuer({ resourceServer: { scopes: ['keygate:proxy', 'keygate:proxy:tools'] } });
    await as.setClients([]); // clients register themselves (RFC 7591)
    as.extraClaims['tenant'] = tenant;
    mcp = await startMcpUpstream((token) => token === API_KEY);
    keygate = await startProxyKeygate(`
callers:
  issuers:
    - issuer: ${as.url}
      tenant: { claim: tenant }
      account: { claim: sub }
integrations:
  tools:
    baseUrl: ${mcp.url}
    auth: { type: api_key }
    inject: { header: authorization, format: "Bearer {token}" }
`);
    const res = await keygate.admin('PUT', `/v1/tenants/${tenant}/credentials/tools/accounts/alice`, {
      apiKey: API_KEY,
    });
    expect(res.status).toBe(200);
  });
  afterAll(async () => {
    await keygate?.close();
    await mcp?.stop();
    await as?.stop();
  });

  it('discovers, authorises and calls a tool; the upstream sees the injected key, not the token', async () => {
    const serverUrl = new URL(`${keygate.url}/proxy/${tenant}/tools/mcp`);
    const auth = new MemoryOAuthClient();
    const first = new StreamableHTTPClientTransport(serverUrl, { authProvider: auth });
    await expect(new Client({ name: 'test', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    expect(mcp.received).toHaveLength(0);
    const opened = auth.opened[0] as URL;
    expect(opened.origin).toBe(as.url);
    expect(opened.searchParams.get('resource')).toBe(`${keygate.url}/proxy/${tenant}/tools`);
    expect(opened.searchParams.get('scope')).toBe('keygate:proxy:tools');

    const back = await signInAt(as, opened, 'alice');
    await first.finishAuth(back.searchParams.get('code') as string);
    const token = auth.tokens()?.access_token as string;
    expect(token.split('.')).toHaveLength(3);

    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: auth }));
    const result = await client.callTool({ name: 'whoami' });
    expect(result.content).toEqual([{ type: 'text', text: 'ok' }]);
    await client.close();

    expect(mcp.received.length).toBeGreaterThan(0);
    for (const seen of mcp.received) {
      expect(seen.headers.authorization).toBe(`Bearer ${API_KEY}`);
      expect(JSON.stringify(seen.headers)).not.toContain(token);
    }
    const log = keygate.lines.join('\n');
    for (const issued of as.issued()) expect(log).not.toContain(issued);
  });

  it('steps up: a token without the scope gets 403 insufficient_scope, and the SDK asks again for it', async () => {
    const serverUrl = new URL(`${keygate.url}/proxy/${tenant}/tools/mcp`);
    const auth = new MemoryOAuthClient();
    as.declineOnce.add('keygate:proxy:tools');
    const before = mcp.received.length;
    const first = new StreamableHTTPClientTransport(serverUrl, { authProvider: auth });
    await expect(new Client({ name: 'test', version: '1.0.0' }).connect(first)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    await first.finishAuth(
      (await signInAt(as, auth.opened[0] as URL, 'alice')).searchParams.get('code') as string,
    );
    const narrow = auth.tokens()?.access_token as string;

    // The token is valid and for this resource, but the user declined the scope.
    const refused = await fetch(serverUrl, {
      method: 'POST',
      headers: { authorization: `Bearer ${narrow}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect([refused.status, refused.headers.get('x-keygate-error')]).toEqual([403, 'insufficient_scope']);
    expect(refused.headers.get('www-authenticate')).toMatch(
      /^Bearer error="insufficient_scope", scope="keygate:proxy:tools", resource_metadata="[^"]+\/\.well-known\/oauth-protected-resource\/proxy\/[^"]+\/tools"/,
    );
    await refused.text();

    const second = new StreamableHTTPClientTransport(serverUrl, { authProvider: auth });
    await expect(new Client({ name: 'test', version: '1.0.0' }).connect(second)).rejects.toBeInstanceOf(
      UnauthorizedError,
    );
    const stepUp = auth.opened[1] as URL;
    expect(stepUp.searchParams.get('scope')).toContain('keygate:proxy:tools');
    await second.finishAuth((await signInAt(as, stepUp, 'alice')).searchParams.get('code') as string);
    expect(auth.tokens()?.access_token).not.toBe(narrow);
    expect(mcp.received.length).toBe(before); // refusals never reach the MCP server
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(new StreamableHTTPClientTransport(serverUrl, { authProvider: auth }));
    expect((await client.callTool({ name: 'whoami' })).content).toEqual([{ type: 'text', text: 'ok' }]);
    await client.close();
    expect(mcp.received.length).toBeGreaterThan(before);
    expect(mcp.received.slice(before).every((r) => r.headers.authorization === `Bearer ${API_KEY}`)).toBe(
      true,
    );
  });
});
