import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { credentialRef } from '../../src/credentials/ref.ts';
import { startConnectStack, type ConnectStack } from '../support/connect.ts';
import { uniqueTenant } from '../support/store.ts';

/**
 * The cache-hit path (pipeline.ts #prepareCached) must hand a request to #prepare whenever
 * #prepare would not simply forward it. These pin its two credential checks with body-less
 * requests (the only ones that take it): the existing tests of an expired token (a POST) and
 * of a dead credential (MCP tools/call, a POST) never reach it, and a GET whose expired token
 * was forwarded would still end 200 through the 401 refresh-and-replay.
 */
describe('the cache-hit path hands expired and dead credentials to the slow path', () => {
  let stack: ConnectStack;

  beforeAll(async () => {
    stack = await startConnectStack({
      upstream: (provider) => (req, res) => {
        const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
        res.writeHead(provider.isValidAccessToken(token) ? 200 : 401, { 'content-type': 'application/json' });
        res.end('{}');
      },
    });
  });
  afterAll(() => stack?.close());

  const get = (tenant: string) =>
    fetch(`${stack.keygate.url}/proxy/${tenant}/remote/items`, {
      headers: { authorization: `Bearer ${stack.key}` },
    });

  it('an expired access token in the cache is refreshed before the request, never sent', async () => {
    const tenant = uniqueTenant('cached-expired');
    const pair = stack.provider.issue(tenant);
    await stack.keygate.putCredential(tenant, 'remote', {
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      expiresIn: 3600,
    });
    // What a replica holds when the scheduler fell behind: the cached copy past its expiry
    // (primed, so the scheduler does not refresh it first), the record in Vault already newer.
    const stored = await stack.keygate.store.read(credentialRef(tenant, 'remote'));
    stack.keygate.store.prime({
      ...stored,
      secret: { ...stored.secret, accessToken: 'expired-access-token' },
      expiresAt: new Date(Date.now() - 60_000).toISOString(),
    });
    await (await get(uniqueTenant('warm'))).text(); // the key verified once: a cache hit from now on
    const before = stack.upstream.received.length;
    const res = await get(tenant);
    await res.text();
    expect(res.status).toBe(200);
    const sent = stack.upstream.received.slice(before).map((r) => r.headers.authorization);
    expect(sent).toEqual([`Bearer ${stack.provider.current(tenant)?.accessToken}`]);
  });

  it('a dead credential in the cache gets the reauth answer every time, and the upstream nothing', async () => {
    const tenant = uniqueTenant('cached-dead');
    const pair = stack.provider.issue(tenant);
    await stack.keygate.putCredential(tenant, 'remote', {
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      expiresIn: 3600,
    });
    await stack.keygate.store.setStatus(credentialRef(tenant, 'remote'), 'needs_reauth');
    const before = stack.upstream.received.length;
    for (let i = 0; i < 2; i += 1) {
      // The first read loads the dead credential into the cache; the second is a cache hit.
      const res = await get(tenant);
      await res.text();
      expect([res.status, res.headers.get('x-keygate-error')]).toEqual([401, 'reauth_required']);
    }
    expect(stack.upstream.received.length).toBe(before);
  });
});
