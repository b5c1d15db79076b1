import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  SAME_ORIGIN_FORM,
  codeIn,
  completeConnect,
  openConnectPage,
  submitCode,
  type Seen,
} from '../support/browser.ts';
import { providerIntegration } from '../support/connect.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { ADMIN_TOKEN, startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { connectSse, type SseClient } from '../support/sse.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const V2026 = '2026-07-28';

/**
 * Connect links for REST callers (401 problem+json) and MCP 2026-07-28 callers
 * (InputRequiredResult + requestState): one link shared by concurrent callers,
 * single use, expiry, wrong codes, and the retried call resuming upstream.
 */
describe('re-authorisation in-band: connect links, REST and MCP 2026-07-28', () => {
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  let events: SseClient;
  const answers: string[] = [];
  const pages: Seen[] = [];

  beforeAll(async () => {
    provider = await startOAuthProvider();
    upstream = await startUpstream((req, res) => {
      const rpc = req.body.length > 0 ? (JSON.parse(req.body.toString()) as { id?: number }) : {};
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ jsonrpc: '2.0', id: rpc.id ?? null, result: { resultType: 'complete', ok: true } }),
      );
    });
    keygate = await startProxyKeygate(`
integrations:
${providerIntegration('remote', provider, {}, upstream.origin)}  nourl:
    baseUrl: ${upstream.origin}
    auth: { type: oauth2, tokenUrl: ${provider.tokenUrl}, clientId: ${provider.clientId}, clientSecret: ${provider.clientSecret} }
  plain:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
`);
    ({ key } = await keygate.createKey({ tenants: ['*'] }));
    events = await connectSse(`${keygate.url}/v1/events`, { authorization: `Bearer ${ADMIN_TOKEN}` });
  });
  afterAll(async () => {
    events?.close();
    const everything = [
      ...answers,
      ...pages.map((p) => `${JSON.stringify([...p.headers])}\n${p.text}`),
      events.raw(),
      ...keygate.lines,
    ].join('\n');
    for (const secret of [...provider.issuedTokens(), provider.clientSecret, key.split('.')[1] as string]) {
      expect(everything).not.toContain(secret);
    }
    await keygate?.close();
    await upstream?.stop();
    await provider?.stop();
  });

  async function call(tenant: string, integration: string, init: RequestInit & { path?: string } = {}) {
    const res = await fetch(`${keygate.url}/proxy/${tenant}/${integration}${init.path ?? '/v1/things'}`, {
      ...init,
      headers: { authorization: `Bearer ${key}`, ...(init.headers as Record<string, string>) },
    });
    const text = await res.text();
    answers.push(JSON.stringify([...res.headers]), text);
    const type = res.headers.get('content-type') ?? '';
    return {
      status: res.status,
      type,
      error: res.headers.get('x-keygate-error'),
      challenge: res.headers.get('www-authenticate'),
      body: /json/.test(type) ? (JSON.parse(text) as Record<string, any>) : ({ text } as Record<string, any>),
    };
  }
  const linkIdOf = (url: string) => url.split('/').pop() as string;

  it('a REST caller gets 401 problem+json with connect_url; concurrent callers share one link', async () => {
    const tenant = uniqueTenant('rest');
    const answersNow = await Promise.all(Array.from({ length: 5 }, () => call(tenant, 'remote')));
    const first = answersNow[0]!;
    expect([first.status, first.error]).toEqual([401, 'reauth_required']);
    expect(first.type).toMatch(/^application\/problem\+json/);
    expect(first.body).toMatchObject({
      code: 'reauth_required',
      status: 401,
      integration: 'remote',
      account: 'default',
      tenant,
    });
    expect(first.body['connect_url']).toMatch(new RegExp(`^${keygate.url}/connect/[A-Za-z0-9_-]{22}$`));
    expect(new Set(answersNow.map((a) => a.body['connect_url'])).size).toBe(1);
    // A 401 names its challenge (RFC 9110 §11.6.1); not Bearer, the caller's own key is fine.
    expect(first.challenge).toBe(
      `Keygate-Connect realm="keygate", connect_url="${first.body['connect_url']}"`,
    );
    expect(upstream.received).toHaveLength(0);

    // Opening the page connects nothing: it shows what and for whom, and asks for the code.
    const page = await fetch(first.body['connect_url']);
    const html = await page.text();
    expect(page.status).toBe(200);
    expect(page.headers.get('content-security-policy')).toContain("frame-ancestors 'none'");
    expect(html).toContain(tenant);
    expect(html).toContain('remote');
    expect(html).not.toContain(first.body['confirmation_code']);
    expect(await keygate.store.has(credentialRef(tenant, 'remote'))).toBe(false);

    const before = events.messages.length;
    pages.push(...(await completeConnect(first.body['connect_url'], first.body['confirmation_code'])));
    const connected = await waitFor('the connected event', () =>
      events.messages.slice(before).find((m) => m.event === 'connected'),
    );
    expect(JSON.parse(connected.data as string)).toMatchObject({ tenant, integration: 'remote' });
    const after = await call(tenant, 'remote');
    expect(after.status).toBe(200);
    const sent = /^Bearer (.+)$/.exec(upstream.received.at(-1)?.headers.authorization ?? '')?.[1] ?? '';
    expect(provider.isValidAccessToken(sent)).toBe(true);

    // Spent: the page and the submit both answer 410 now.
    const reused = await fetch(first.body['connect_url']);
    expect([reused.status, reused.headers.get('x-keygate-error')]).toEqual([410, 'connect_link_invalid']);
    await reused.text();
    const resubmit = await postCode(first.body['connect_url'], first.body['confirmation_code']);
    expect(resubmit.status).toBe(410);
  });

  it('an expired link is refused and the next caller gets a new one; wrong codes are counted and end the link', async () => {
    const tenant = uniqueTenant('expiry');
    const offered = await call(tenant, 'remote');
    const url = offered.body['connect_url'] as string;
    const id = linkIdOf(url);
    const stored = await keygate.kv.read<Record<string, unknown>>(`reauth-link/${id}`);
    await keygate.kv.write(
      `reauth-link/${id}`,
      { ...stored?.data, expiresAt: new Date(Date.now() - 1000).toISOString() },
      { cas: stored?.version ?? 0 },
    );
    const expired = await fetch(url);
    expect([expired.status, expired.headers.get('x-keygate-error')]).toEqual([410, 'connect_link_invalid']);
    await expired.text();
    expect((await postCode(url, offered.body['confirmation_code'])).status).toBe(410);

    const fresh = await call(tenant, 'remote');
    expect(fresh.body['connect_url']).not.toBe(url);
    const freshUrl = fresh.body['connect_url'] as string;
    const page = await openConnectPage(freshUrl);
    for (let i = 1; i <= 5; i++) {
      const wrong = await submitCode(freshUrl, page, 'AAAA-AAAA', SAME_ORIGIN_FORM);
      expect([wrong.status, wrong.headers.get('x-keygate-error')]).toEqual([400, 'connect_code_invalid']);
      // The fifth ends the link: no form on that page.
      expect((await wrong.text()).includes('<form')).toBe(i < 5);
    }
    const right = await submitCode(freshUrl, page, fresh.body['confirmation_code'], SAME_ORIGIN_FORM);
    expect([right.status, right.headers.get('x-keygate-error')]).toEqual([410, 'connect_link_invalid']);
    expect(await keygate.store.has(credentialRef(tenant, 'remote'))).toBe(false);
  });

  it('an account: the link names it, connects that account, and the default account is left alone', async () => {
    const tenant = uniqueTenant('account');
    const offered = await call(tenant, 'remote', { headers: { 'keygate-account': 'work' } });
    expect([offered.status, offered.body['account']]).toEqual([401, 'work']);
    expect(offered.body['detail']).toContain('account work');
    const forDefault = await call(tenant, 'remote');
    expect(forDefault.body['connect_url']).not.toBe(offered.body['connect_url']);
    pages.push(...(await completeConnect(offered.body['connect_url'], offered.body['confirmation_code'])));
    expect((await keygate.store.read(credentialRef(tenant, 'remote', 'work'))).status).toBe('active');
    expect(await keygate.store.has(credentialRef(tenant, 'remote'))).toBe(false);
    const ok = await call(tenant, 'remote', { headers: { 'keygate-account': 'work' } });
    expect(ok.status).toBe(200);
    expect(upstream.received.at(-1)?.headers).not.toHaveProperty('keygate-account');
  });

  it('integrations without an authorization URL, and API-key ones, keep their plain errors', async () => {
    const tenant = uniqueTenant('plain');
    const apiKey = await call(tenant, 'plain');
    expect([apiKey.status, apiKey.error]).toEqual([404, 'credential_not_found']);
    const noUrl = await call(tenant, 'nourl');
    expect([noUrl.status, noUrl.error]).toEqual([404, 'credential_not_found']);
  });

  const mcp2026 = (id: number, method: string, params: Record<string, unknown>, capabilities = true) => ({
    method: 'POST',
    path: '/mcp',
    headers: {
      'content-type': 'application/json',
      accept: 'application/json, text/event-stream',
      'mcp-protocol-version': V2026,
      'mcp-method': method,
      ...(typeof params['name'] === 'string' ? { 'mcp-name': params['name'] } : {}),
    },
    body: JSON.stringify({
      jsonrpc: '2.0',
      id,
      method,
      params: {
        ...params,
        _meta: {
          'io.modelcontextprotocol/protocolVersion': V2026,
          'io.modelcontextprotocol/clientCapabilities': capabilities ? { elicitation: { url: {} } } : {},
        },
      },
    }),
  });

  it('MCP 2026-07-28: InputRequiredResult with a URL elicitation and requestState; the retry resumes upstream without them', async () => {
    const tenant = uniqueTenant('mrtr');
    const params = { name: 'whoami', arguments: {} };
    const first = await call(tenant, 'remote', mcp2026(1, 'tools/call', params));
    expect([first.status, first.error]).toEqual([200, 'reauth_required']);
    const result = first.body['result'];
    expect(first.body['id']).toBe(1);
    expect(result.resultType).toBe('input_required');
    const request = result.inputRequests.keygate_connect;
    expect(request.method).toBe('elicitation/create');
    expect(request.params).toMatchObject({ mode: 'url', url: expect.stringMatching(/\/connect\//) });
    expect(typeof result.requestState).toBe('string');

    // No URL elicitation declared: 400 MissingRequiredClientCapability. Not a MRTR method: Keygate's -32010.
    const noCap = await call(tenant, 'remote', mcp2026(2, 'tools/call', params, false));
    expect([noCap.status, noCap.body['error'].code]).toEqual([400, -32021]);
    const list = await call(tenant, 'remote', mcp2026(3, 'tools/list', {}));
    expect([list.status, list.body['error'].code]).toEqual([200, -32010]);
    expect(list.body['error'].data.connect_url).toBe(request.params.url);

    pages.push(...(await completeConnect(request.params.url, codeIn(request.params.message))));

    const retry = mcp2026(4, 'tools/call', {
      ...params,
      inputResponses: { keygate_connect: { action: 'accept' } },
      requestState: result.requestState,
    });
    // A state for another tool is refused (it is bound to the originating request)...
    const forged = await call(
      tenant,
      'remote',
      mcp2026(5, 'tools/call', { name: 'other', arguments: {}, requestState: result.requestState }),
    );
    expect([forged.status, forged.error]).toEqual([400, 'bad_request']);
    // ...and so is one presented by another Keygate key (another principal).
    const other = await keygate.createKey({ tenants: [tenant] });
    const stolen = await fetch(`${keygate.url}/proxy/${tenant}/remote/mcp`, {
      method: 'POST',
      headers: { ...(retry.headers as Record<string, string>), authorization: `Bearer ${other.key}` },
      body: retry.body,
    });
    expect(stolen.status).toBe(400);
    await stolen.text();

    const before = upstream.received.length;
    const resumed = await call(tenant, 'remote', retry);
    expect(resumed.status).toBe(200);
    expect(resumed.body).toMatchObject({ id: 4, result: { resultType: 'complete', ok: true } });
    const seen = upstream.received.slice(before);
    expect(seen).toHaveLength(1);
    const forwarded = JSON.parse(seen[0]!.body.toString());
    expect(forwarded.params).not.toHaveProperty('requestState');
    expect(forwarded.params).not.toHaveProperty('inputResponses');
    expect(forwarded.params.name).toBe('whoami');
    // The MCP headers reach the upstream untouched.
    expect(seen[0]!.headers).toMatchObject({
      'mcp-protocol-version': V2026,
      'mcp-method': 'tools/call',
      'mcp-name': 'whoami',
    });
  });

  function postCode(url: string, code: string) {
    return fetch(url, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ code }).toString(),
    });
  }
});
