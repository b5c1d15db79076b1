import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TestKeygate } from '../support/keygate.ts';
import { rawRequest, type RawAnswer } from '../support/raw-http.ts';
import { startRealtimeUpstream, type RealtimeUpstream } from '../support/realtime-upstream.ts';
import { ADMIN_TOKEN, startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { connectSse, type SseClient } from '../support/sse.ts';
import { uniqueTenant } from '../support/store.ts';
import { startTokenIssuer, type TokenIssuer } from '../support/token-issuer.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { waitFor } from '../support/wait.ts';

const API_KEY = 'tenant-upstream-key-c4n4ry-91b2';

/**
 * Access tokens as callers of /proxy, end to end through Keygate on a real OpenBao:
 * who gets through (audience, tenant, scope), what everyone else gets (401/403 with the
 * RFC 6750 challenge), that no refusal reaches the upstream, that keys keep working
 * beside tokens, and that no token ever leaves Keygate: not upstream (HTTP or
 * WebSocket), not in a log line, an answer, an event or a metric.
 */
describe('access tokens on /proxy', () => {
  let issuer: TokenIssuer;
  let upstream: FakeUpstream;
  let realtime: RealtimeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let events: SseClient;
  const tenant = uniqueTenant('tokens');
  const tokens: string[] = []; // every token presented, for the canary hunt
  const answers: string[] = [];

  beforeAll(async () => {
    issuer = await startTokenIssuer({ alg: 'ES256' });
    upstream = await startUpstream();
    realtime = await startRealtimeUpstream();
    keygate = await startProxyKeygate(`
authThrottle: { maxFailures: 0 }
callers:
  issuers:
    - issuer: ${issuer.issuer}
      tenant: { claim: org }
integrations:
  echo:
    baseUrl: ${upstream.origin}/echo
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
  other:
    baseUrl: ${upstream.origin}/other
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
  live:
    baseUrl: ${realtime.origin}
    auth: { type: api_key }
    inject: { header: authorization, format: "Bearer {token}" }
`);
    for (const integration of ['echo', 'other', 'live'])
      await keygate.putCredential(tenant, integration, { apiKey: API_KEY });
    events = await connectSse(`${keygate.url}/v1/events`, { authorization: `Bearer ${ADMIN_TOKEN}` });
  });
  afterAll(async () => {
    events?.close();
    await keygate?.close();
    await upstream?.stop();
    await realtime?.stop();
    await issuer?.stop();
  });

  const token = async (
    claims: Record<string, unknown> = {},
    options?: Parameters<TokenIssuer['sign']>[1],
  ) => {
    const signed = await issuer.sign(
      { sub: 'agent-7', org: tenant, aud: keygate.url, scope: 'keygate:proxy', ...claims },
      options,
    );
    tokens.push(signed);
    return signed;
  };
  async function call(integration: string, headers: Record<string, string>, path = '/v1/items') {
    const res = await rawRequest(keygate.url, `/proxy/${tenant}/${integration}${path}`, { headers });
    answers.push(JSON.stringify(res.headers), res.body);
    return res;
  }
  const bearer = (t: string) => ({ authorization: `Bearer ${t}` });
  const codeOf = (res: RawAnswer) => [res.status, res.headers['x-keygate-error'] ?? null];
  const metadataUrl = (integration: string) =>
    `${keygate.url}/.well-known/oauth-protected-resource/proxy/${tenant}/${integration}`;

  it('a token for Keygate with keygate:proxy reaches every integration; the upstream gets the key, never the token', async () => {
    const t = await token();
    const before = upstream.received.length;
    for (const headers of [bearer(t), { 'x-api-key': t }, { 'proxy-authorization': `Bearer ${t}` }]) {
      expect(codeOf(await call('echo', headers))).toEqual([200, null]);
      expect(codeOf(await call('other', headers))).toEqual([200, null]);
    }
    const seen = upstream.received.slice(before);
    expect(seen).toHaveLength(6);
    for (const req of seen) {
      expect(req.headers['x-api-key']).toBe(API_KEY);
      expect(req.headers).not.toHaveProperty('authorization');
      expect(req.headers).not.toHaveProperty('proxy-authorization');
      expect(JSON.stringify(req.headers)).not.toContain(t.split('.')[2]);
    }
    // The audit line names the caller by its stable id, not by anything in the token.
    await waitFor(
      'the audit lines',
      () => keygate.lines.filter((l) => l.includes('"proxy_request"')).length >= 6,
    );
  });

  it('audience: Keygate’s URL, or this path’s resource URL exactly; any other is 401 invalid_token', async () => {
    const forEcho = await token({ aud: `${keygate.url}/proxy/${tenant}/echo`, scope: 'keygate:proxy:echo' });
    expect(codeOf(await call('echo', bearer(forEcho)))).toEqual([200, null]);
    const before = upstream.received.length;
    const elsewhere = await call('other', bearer(forEcho));
    expect(codeOf(elsewhere)).toEqual([401, 'invalid_token']);
    expect(elsewhere.headers['www-authenticate']).toBe(
      `Bearer error="invalid_token", error_description="The access token is for another audience (aud) than this resource.", resource_metadata="${metadataUrl('other')}"`,
    );
    for (const aud of [
      'https://api.example.com',
      `${keygate.url}/`,
      `${keygate.url}/proxy/${tenant}`,
      [`${keygate.url}/proxy/x/echo`],
    ]) {
      expect(codeOf(await call('echo', bearer(await token({ aud }))))).toEqual([401, 'invalid_token']);
    }
    expect(upstream.received.length).toBe(before);
  });

  it('scope: keygate:proxy:{integration} (scope or scp) for that one; without it 403 insufficient_scope with the challenge', async () => {
    const narrow = await token({ scope: 'openid keygate:proxy:echo' });
    expect(codeOf(await call('echo', bearer(narrow)))).toEqual([200, null]);
    const scp = await token({ scope: undefined, scp: ['keygate:proxy:other'] });
    expect(codeOf(await call('other', bearer(scp)))).toEqual([200, null]);
    const before = upstream.received.length;
    const refused = await call('other', bearer(narrow));
    expect(codeOf(refused)).toEqual([403, 'insufficient_scope']);
    expect(refused.headers['www-authenticate']).toBe(
      `Bearer error="insufficient_scope", scope="keygate:proxy:other", resource_metadata="${metadataUrl('other')}", error_description="The access token lacks the scope keygate:proxy or keygate:proxy:{integration} for this request."`,
    );
    for (const scope of [
      undefined,
      '',
      'keygate',
      'keygate:proxy:ech',
      'KEYGATE:PROXY',
      'keygate:proxy:echo:x',
    ]) {
      expect(codeOf(await call('echo', bearer(await token({ scope }))))).toEqual([403, 'insufficient_scope']);
    }
    expect(upstream.received.length).toBe(before);
  });

  it('tenant: another tenant’s token is 403 forbidden (no step-up offered); no tenant claim is 401', async () => {
    const before = upstream.received.length;
    const other = await call('echo', bearer(await token({ org: `not-${tenant}` })));
    expect(codeOf(other)).toEqual([403, 'forbidden']);
    expect(other.headers).not.toHaveProperty('www-authenticate');
    expect(codeOf(await call('echo', bearer(await token({ org: undefined }))))).toEqual([
      401,
      'invalid_token',
    ]);
    expect(codeOf(await call('echo', bearer(await token({ org: 'Not A Name' }))))).toEqual([
      401,
      'invalid_token',
    ]);
    expect(upstream.received.length).toBe(before);
  });

  it('bad tokens: expired, tampered, unsigned key, wrong typ, opaque, oversized: 401 with the challenge; nothing upstream', async () => {
    const before = upstream.received.length;
    const good = await token();
    const [head, body, signature] = good.split('.') as [string, string, string];
    const tampered = `${head}.${Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), org: tenant, sub: 'admin' })).toString('base64url')}.${signature}`;
    tokens.push(tampered);
    const cases: Array<[string, RegExp]> = [
      [await token({ exp: Math.floor(Date.now() / 1000) - 120 }), /expired/],
      [tampered, /signature does not verify/],
      [
        await token({}, { key: await issuer.unpublishedKey(), kid: issuer.keys[0]!.kid }),
        /signature does not verify/,
      ],
      [await token({}, { typ: 'JWT' }), /typ header/],
      ['opaque-token-from-somewhere-else', /neither a Keygate key nor a JWT/],
      [`eyJ${'A'.repeat(9000)}.e30.sig`, /longer than 8192 bytes/],
      ['eyJhbGciOiJFUzI1NiJ9.not-base64!.x', /not a well-formed JWT/],
    ];
    for (const [presented, reason] of cases) {
      const res = await call('echo', bearer(presented));
      expect(codeOf(res), String(reason)).toEqual([401, 'invalid_token']);
      expect(JSON.parse(res.body).error.message).toMatch(reason);
      expect(res.headers['www-authenticate']).toMatch(
        new RegExp(
          `^Bearer error="invalid_token", error_description="[^"]+", resource_metadata="${metadataUrl('echo').replace(/[.?]/g, '\\$&')}"$`,
        ),
      );
    }
    // Past Node's header limit (16 KiB) a 50 KB token never reaches Keygate's code at all.
    const huge = await call('echo', bearer(`eyJ${'A'.repeat(50_000)}`));
    expect(codeOf(huge)).toEqual([431, 'headers_too_large']);
    expect(upstream.received.length).toBe(before);
  });

  it('no credential: 401 naming the metadata and the scope (MCP discovery); a bad Keygate key: invalid_token', async () => {
    const none = await call('echo', {});
    expect(codeOf(none)).toEqual([401, 'unauthorized']);
    expect(none.headers['www-authenticate']).toBe(
      `Bearer resource_metadata="${metadataUrl('echo')}", scope="keygate:proxy:echo"`,
    );
    const badKey = await call('echo', bearer(`kg_${'a'.repeat(16)}.${'b'.repeat(43)}`));
    expect(codeOf(badKey)).toEqual([401, 'unauthorized']);
    expect(badKey.headers['www-authenticate']).toMatch(/^Bearer error="invalid_token"/);
  });

  it('Keygate keys keep working beside tokens, with their own scope', async () => {
    const { key } = await keygate.createKey({ tenants: [tenant], integrations: ['echo'] });
    expect(codeOf(await call('echo', { 'x-api-key': key }))).toEqual([200, null]);
    expect(codeOf(await call('other', bearer(key)))).toEqual([403, 'forbidden']);
  });

  it('serves RFC 9728 metadata per proxied base URL', async () => {
    const res = await fetch(metadataUrl('echo'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({
      resource: `${keygate.url}/proxy/${tenant}/echo`,
      authorization_servers: [issuer.issuer],
      scopes_supported: ['keygate:proxy:echo'],
      bearer_methods_supported: ['header'],
      resource_name: `Keygate: echo for ${tenant}`,
    });
    const unknown = await fetch(`${keygate.url}/.well-known/oauth-protected-resource/proxy/${tenant}/nope`);
    expect([unknown.status, unknown.headers.get('x-keygate-error')]).toEqual([404, 'unknown_integration']);
    const bad = await fetch(`${keygate.url}/.well-known/oauth-protected-resource/proxy/Bad%20Name/echo`);
    expect(bad.status).toBe(400);
  });

  it('WebSocket upgrades take the same checks; the upstream handshake carries the key, not the token', async () => {
    const t = await token({ scope: 'keygate:proxy:live' });
    const url = `${keygate.url.replace('http', 'ws')}/proxy/${tenant}/live/socket`;
    const ws = new WebSocket(url, { headers: bearer(t) });
    const first = await new Promise<string>((resolve, reject) => {
      ws.once('message', (data) => resolve((data as Buffer).toString()));
      ws.once('error', reject);
    });
    expect(first).toBe('hello');
    ws.close();
    const handshake = realtime.handshakes.at(-1) as IncomingMessage['headers'];
    expect(handshake.authorization).toBe(`Bearer ${API_KEY}`);
    expect(JSON.stringify(handshake)).not.toContain(t);

    const refused = new WebSocket(url, { headers: bearer(await token({ scope: 'keygate:proxy:echo' })) });
    const answer = await new Promise<IncomingMessage>((resolve, reject) => {
      refused.once('unexpected-response', (_req, res) => resolve(res));
      refused.once('open', () => reject(new Error('opened')));
    });
    expect([answer.statusCode, answer.headers['x-keygate-error']]).toEqual([403, 'insufficient_scope']);
    expect(answer.headers['www-authenticate']).toMatch(
      /^Bearer error="insufficient_scope", scope="keygate:proxy:live"/,
    );
    answer.resume();
  });

  it('no token appears in a log line, an answer, an event or a metric', async () => {
    const metrics = await (await fetch(`${keygate.url}/metrics`)).text();
    // Every call but the 431 (refused by Node's parser before Keygate) has its audit line.
    const calls = answers.length / 2 - 1;
    await waitFor(
      'the audit lines',
      () => keygate.lines.filter((l) => l.includes('"proxy_request"')).length >= calls,
    );
    const everything = [keygate.lines.join('\n'), answers.join('\n'), events.raw(), metrics].join('\n');
    expect(tokens.length).toBeGreaterThan(20);
    for (const t of tokens) {
      expect(everything).not.toContain(t);
      for (const part of t.split('.').filter((p) => p.length > 20)) expect(everything).not.toContain(part);
    }
    expect(everything).not.toContain(API_KEY);
    // The caller id the audit line carries is derived, not the subject.
    expect(keygate.lines.join('\n')).not.toContain('agent-7');
  });
});

describe('access tokens: the auth throttle, and Keygate without issuers', () => {
  let issuer: TokenIssuer;
  let upstream: FakeUpstream;
  let throttled: TestKeygate & ProxyAdmin;
  let keysOnly: TestKeygate & ProxyAdmin;
  const tenant = uniqueTenant('throttle');

  beforeAll(async () => {
    issuer = await startTokenIssuer();
    upstream = await startUpstream();
    const integrations = `
integrations:
  echo: { baseUrl: ${upstream.origin}, auth: { type: api_key } }
`;
    throttled = await startProxyKeygate(`
authThrottle: { maxFailures: 3, windowSeconds: 60 }
callers:
  issuers: [{ issuer: "${issuer.issuer}", tenant: { value: ${tenant} }, audience: [kg] }]
${integrations}`);
    keysOnly = await startProxyKeygate(integrations);
    await throttled.putCredential(tenant, 'echo', { apiKey: API_KEY });
  });
  afterAll(async () => {
    await throttled?.close();
    await keysOnly?.close();
    await upstream?.stop();
    await issuer?.stop();
  });

  it('failed token authentications count against the address; past the budget even a good token waits', async () => {
    const good = await issuer.sign({ sub: 'a', aud: 'kg', scope: 'keygate:proxy' });
    const forged = await issuer.sign(
      { sub: 'a', aud: 'kg', scope: 'keygate:proxy' },
      { key: await issuer.unpublishedKey() },
    );
    const call = (t: string) =>
      fetch(`${throttled.url}/proxy/${tenant}/echo/x`, { headers: { authorization: `Bearer ${t}` } });
    expect((await call(good)).status).toBe(200);
    for (let i = 0; i < 3; i += 1) expect((await call(forged)).status).toBe(401);
    const after = await call(good);
    expect([after.status, after.headers.get('x-keygate-error')]).toEqual([429, 'auth_throttled']);
    expect(Number(after.headers.get('retry-after'))).toBeGreaterThan(0);
    const metrics = await (await fetch(`${throttled.url}/metrics`)).text();
    expect(metrics).toMatch(/keygate_auth_failures_total\{outcome="rejected"\} 3\b/);
    expect(metrics).toMatch(/keygate_issuer_key_fetches_total\{issuer="[^"]+",outcome="ok"\} 1\b/);
  });

  it('without callers.issuers a JWT is no credential at all, and there is no metadata', async () => {
    const jwt = await issuer.sign({ sub: 'a', aud: 'kg', scope: 'keygate:proxy' });
    const res = await fetch(`${keysOnly.url}/proxy/${tenant}/echo/x`, {
      headers: { authorization: `Bearer ${jwt}` },
    });
    expect([res.status, res.headers.get('x-keygate-error'), res.headers.get('www-authenticate')]).toEqual([
      401,
      'unauthorized',
      'Bearer realm="keygate"', // the scheme only: no resource_metadata to discover
    ]);
    const metadata = await fetch(`${keysOnly.url}/.well-known/oauth-protected-resource/proxy/${tenant}/echo`);
    expect(metadata.status).toBe(404);
  });
});
