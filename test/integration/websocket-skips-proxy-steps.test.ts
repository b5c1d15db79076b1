import type { IncomingMessage } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { providerIntegration } from '../support/connect.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { startRealtimeUpstream, type RealtimeUpstream } from '../support/realtime-upstream.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';

/** The bearer token of a handshake ('' without one). */
const bearer = (headers: IncomingMessage['headers']) =>
  /^Bearer (.+)$/.exec(headers.authorization ?? '')?.[1] ?? '';

type Opened =
  | { open: true; ws: WebSocket }
  | { open: false; status: number; headers: IncomingMessage['headers']; body: string };

function open(url: string, headers: Record<string, string>): Promise<Opened> {
  const ws = new WebSocket(url, { headers });
  return new Promise((resolve, reject) => {
    ws.on('open', () => resolve({ open: true, ws }));
    ws.on('unexpected-response', (_req, res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ open: false, status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    ws.on('error', reject);
  });
}

/**
 * Issue 25: a WebSocket handshake took its own shortcut around the proxy's steps. It sent
 * an expired token to the origin, answered a dead credential 502 instead of the reauth
 * answer, and its audit line had no account and no error code. Now it runs the HTTP
 * route's pipeline and differs only in how it forwards.
 */
describe('a WebSocket runs every step of the proxy pipeline', () => {
  let provider: OAuthProvider;
  let realtime: RealtimeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  let key: string;
  let keyId: string;
  let base: string;

  beforeAll(async () => {
    provider = await startOAuthProvider();
    // A realtime API that takes a handshake only with a live access token of the provider's.
    realtime = await startRealtimeUpstream((headers) => provider.isValidAccessToken(bearer(headers)));
    keygate = await startProxyKeygate(`
integrations:
${providerIntegration('live', provider, {}, realtime.origin)}`);
    ({ key, id: keyId } = await keygate.createKey({ tenants: ['*'] }));
    base = keygate.url.replace(/^http/, 'ws');
  });
  afterAll(async () => {
    const everything = keygate.lines.join('\n');
    for (const secret of [...provider.issuedTokens(), provider.clientSecret, key.split('.')[1] as string]) {
      expect(everything).not.toContain(secret);
    }
    await keygate?.close();
    await realtime?.stop();
    await provider?.stop();
  });

  const audits = () =>
    keygate.lines
      .map((l) => JSON.parse(l) as Record<string, unknown>)
      .filter((e) => e['event'] === 'proxy_request');

  it('reaches the origin with the refreshed token when the stored one has expired', async () => {
    const tenant = uniqueTenant('ws-expired');
    const pair = provider.issue(tenant);
    await keygate.putCredential(tenant, 'live', {
      accessToken: 'expired-access-token',
      refreshToken: pair.refreshToken,
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    const before = realtime.handshakes.length;
    const opened = await open(`${base}/proxy/${tenant}/live/socket`, { authorization: `Bearer ${key}` });
    expect(opened.open).toBe(true);
    if (opened.open) opened.ws.close();
    // One handshake, already with the refreshed token: the expired one never reached the origin.
    expect(realtime.handshakes.slice(before).map(bearer)).toEqual([provider.current(tenant)?.accessToken]);
  });

  it('refreshes once and replays the handshake when the origin refuses the token with 401', async () => {
    const tenant = uniqueTenant('ws-401');
    const pair = provider.issue(tenant);
    await keygate.putCredential(tenant, 'live', {
      accessToken: 'revoked-at-the-origin',
      refreshToken: pair.refreshToken,
      expiresIn: 3600,
    });
    const before = realtime.handshakes.length;
    const opened = await open(`${base}/proxy/${tenant}/live/socket`, { authorization: `Bearer ${key}` });
    expect(opened.open).toBe(true);
    if (opened.open) opened.ws.close();
    expect(realtime.handshakes.slice(before).map(bearer)).toEqual([
      'revoked-at-the-origin',
      provider.current(tenant)?.accessToken,
    ]);
  });

  it('gets the same reauth answer as HTTP on a dead credential, and the same audit fields', async () => {
    const tenant = uniqueTenant('ws-dead');
    await keygate.putCredential(tenant, 'live', {
      accessToken: 'stale',
      refreshToken: 'revoked-refresh-token',
      expiresIn: 3600,
    });
    // The 401 outlives the refresh (revoked grant): the caller is told how to reconnect.
    const first = await open(`${base}/proxy/${tenant}/live/socket`, { authorization: `Bearer ${key}` });
    expect(first.open).toBe(false);
    if (first.open) return;
    expect(first.status).toBe(401);
    expect(first.headers['x-keygate-error']).toBe('reauth_required');
    expect(first.headers['content-type']).toContain('application/problem+json');
    const problem = JSON.parse(first.body) as { connect_url: string; code: string };
    expect(problem.code).toBe('reauth_required');
    expect(problem.connect_url).toMatch(/\/connect\/[A-Za-z0-9_-]+$/);

    // Now needs_reauth: answered before any handshake, exactly as the HTTP route answers.
    const handshakes = realtime.handshakes.length;
    const headers = { authorization: `Bearer ${key}`, 'x-request-id': `same-${tenant}` };
    const again = await open(`${base}/proxy/${tenant}/live/socket`, headers);
    const http = await fetch(`${keygate.url}/proxy/${tenant}/live/socket`, { headers });
    expect(again.open).toBe(false);
    if (again.open) return;
    expect(realtime.handshakes.length).toBe(handshakes);
    expect(again.status).toBe(http.status);
    expect(again.headers['x-keygate-error']).toBe(http.headers.get('x-keygate-error'));
    expect(JSON.parse(again.body)).toEqual(await http.json());

    const [ws, rest] = await waitFor('both audit lines', () => {
      const lines = audits().filter((e) => e['tenant'] === tenant && e['keygateError'] === 'reauth_required');
      const socket = lines.filter((e) => e['transport'] === 'websocket');
      const route = lines.find((e) => e['transport'] === 'http');
      return socket.length === 2 && route && [socket[1] as Record<string, unknown>, route];
    });
    expect(Object.keys(ws as object).sort()).toEqual(Object.keys(rest as object).sort());
    expect(ws).toMatchObject({
      account: 'default',
      caller: keyId,
      status: 401,
      method: 'GET',
      path: '/socket',
    });
  });

  it('refuses a non-upgrade method and an unknown key with the HTTP route answers', async () => {
    const tenant = uniqueTenant('ws-refused');
    const nokey = await open(`${base}/proxy/${tenant}/live/socket`, { authorization: 'Bearer kg_nope.nope' });
    expect(nokey.open).toBe(false);
    if (nokey.open) return;
    expect(nokey.status).toBe(401);
    expect(nokey.headers['x-keygate-error']).toBe('unauthorized');
    expect(nokey.headers['x-request-id']).toBeTruthy();
  });
});
