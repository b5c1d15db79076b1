import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { UrlElicitationRequiredError } from '@modelcontextprotocol/sdk/types.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codeIn, completeConnect, type Seen } from '../support/browser.ts';
import { providerIntegration } from '../support/connect.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startMcpUpstream, type McpUpstream } from '../support/mcp-server.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

/**
 * The real MCP SDK client (2025-11-25) through Keygate to a real MCP server (the SDK's)
 * behind OAuth: a dead credential becomes a URL elicitation the client understands, a
 * browser completes it, and the retried call goes through.
 */
describe('re-authorisation in-band: MCP 2025-11-25 with the real SDK', () => {
  let provider: OAuthProvider;
  let mcp: McpUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  const pages: Seen[] = [];
  const seenErrors: string[] = [];

  beforeAll(async () => {
    provider = await startOAuthProvider({ authMethod: 'client_secret_post' });
    mcp = await startMcpUpstream((token) => provider.isValidAccessToken(token));
    keygate = await startProxyKeygate(`
integrations:
${providerIntegration('remote', provider, {}, mcp.url)}`);
    ({ key } = await keygate.createKey({ tenants: ['*'] }));
  });
  afterAll(async () => {
    // Canaries: no token, refresh token, client secret or Keygate key secret anywhere shown or logged.
    const everything = [
      ...seenErrors,
      ...pages.map((p) => `${JSON.stringify([...p.headers])}\n${p.text}`),
      ...keygate.lines,
    ].join('\n');
    for (const secret of [...provider.issuedTokens(), provider.clientSecret, key.split('.')[1] as string]) {
      expect(everything).not.toContain(secret);
    }
    await keygate?.close();
    await mcp?.stop();
    await provider?.stop();
  });

  const connectClient = async (tenant: string) => {
    const client = new Client({ name: 'test-agent', version: '1.0.0' });
    const transport = new StreamableHTTPClientTransport(
      new URL(`${keygate.url}/proxy/${tenant}/remote/mcp`),
      {
        requestInit: { headers: { authorization: `Bearer ${key}` } },
      },
    );
    await client.connect(transport);
    return client;
  };
  const elicitationOf = async (promise: Promise<unknown>) => {
    const err = await promise.then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(UrlElicitationRequiredError);
    const elicitations = (err as UrlElicitationRequiredError).elicitations;
    seenErrors.push(JSON.stringify(err), JSON.stringify((err as UrlElicitationRequiredError).data));
    expect(elicitations).toHaveLength(1);
    return elicitations[0] as { mode: string; url: string; elicitationId: string; message: string };
  };

  it('no credential: the SDK client gets -32042 with a URL elicitation; after the browser connects, the call succeeds', async () => {
    const tenant = uniqueTenant('mcp-none');
    const elicitation = await elicitationOf(connectClient(tenant));
    expect(elicitation.mode).toBe('url');
    expect(elicitation.url).toMatch(new RegExp(`^${keygate.url}/connect/[A-Za-z0-9_-]{22}$`));
    expect(elicitation.url.endsWith(elicitation.elicitationId)).toBe(true);
    expect(elicitation.message).toContain('remote');
    // No personal data or tenant name in the URL; nothing reached the upstream.
    expect(elicitation.url).not.toContain(tenant);
    expect(mcp.received).toHaveLength(0);

    pages.push(...(await completeConnect(elicitation.url, codeIn(elicitation.message))));
    expect((await keygate.store.read(credentialRef(tenant, 'remote'))).status).toBe('active');

    const client = await connectClient(tenant);
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(result.content).toEqual([{ type: 'text', text: 'ok' }]);
    await client.close();
  });

  it('invalid_grant on refresh: needs_reauth, the connected client gets the elicitation on tools/call, then its retry succeeds', async () => {
    const tenant = uniqueTenant('mcp-revoked');
    const pair = provider.issue(tenant);
    await keygate.putCredential(tenant, 'remote', {
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      expiresIn: 3600,
    });
    const client = await connectClient(tenant);
    expect((await client.callTool({ name: 'whoami', arguments: {} })).content).toEqual([
      { type: 'text', text: 'ok' },
    ]);

    // The grant dies at the provider: a stale access token, and a refresh token that is refused.
    await keygate.putCredential(tenant, 'remote', {
      accessToken: 'stale-access-token',
      refreshToken: 'revoked-refresh-token',
      expiresIn: 3600,
    });
    const elicitation = await elicitationOf(client.callTool({ name: 'whoami', arguments: {} }));
    expect((await keygate.store.read(credentialRef(tenant, 'remote'))).status).toBe('needs_reauth');

    // Already needs_reauth: the next call is answered at once, with the same link, without reaching upstream.
    const before = mcp.received.length;
    const again = await elicitationOf(client.callTool({ name: 'whoami', arguments: {} }));
    expect(again.url).toBe(elicitation.url);
    expect(mcp.received.length).toBe(before);

    pages.push(...(await completeConnect(elicitation.url, codeIn(elicitation.message))));
    const retried = await client.callTool({ name: 'whoami', arguments: {} });
    expect(retried.content).toEqual([{ type: 'text', text: 'ok' }]);
    await client.close();
  });
});
