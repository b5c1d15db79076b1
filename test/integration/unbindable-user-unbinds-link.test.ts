import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signAssertion } from '../../src/reauth/identity.ts';
import { startConnectStack, type ConnectStack } from '../support/connect.ts';
import { uniqueTenant } from '../support/store.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const SECRET = 'identity-secret-unbindable-user-0123456789abcdef';

// A header value as the application sends it: UTF-8 bytes (fetch takes a byte string).
const asHeader = (user: string) => Buffer.from(user, 'utf8').toString('latin1');

/**
 * Regression (issue 24): with `reauth.identity`, a call whose `keygate-user` was a value
 * the link could not hold (a space, 300 characters, non-ASCII) still got a link, and that
 * link then accepted any user's valid assertion (another `sub` → 303). Now every value
 * HTTP carries is bound (hashed) and only that user's assertion spends the link; a value
 * that names no one Keygate can bind (empty, over 1024 bytes, not UTF-8) is refused at
 * the call with 400 keygate_user_invalid. Never silently dropped.
 */
describe('unbindable-user-unbinds-link', () => {
  let stack: ConnectStack;

  beforeAll(async () => {
    stack = await startConnectStack({
      config: `reauth: { identity: { url: http://127.0.0.1:9/identify, secret: ${SECRET} } }`,
    });
  });
  afterAll(() => stack?.close());

  const call = (tenant: string, user: string) =>
    fetch(`${stack.keygate.url}/proxy/${tenant}/remote/items`, {
      headers: { authorization: `Bearer ${stack.key}`, 'keygate-user': user },
    });
  async function back(url: string, tenant: string, sub: string) {
    const id = url.split('/').pop() as string;
    const exp = Math.floor(Date.now() / 1000) + 60;
    const assertion = signAssertion(SECRET, { link: id, tenant, sub, exp });
    const res = await fetch(`${url}/identified?assertion=${assertion}`, { redirect: 'manual' });
    await res.text();
    return { status: res.status, code: res.headers.get('x-keygate-error') };
  }

  for (const [what, user] of [
    ['a space', 'alice smith'],
    ['300 characters', `u${'x'.repeat(299)}`],
    ['non-ASCII', 'josé@exämple.org'],
    ['outside the BMP, with a comma', 'ñandú 🦤, the second'],
  ] as const) {
    it(`a user with ${what} is bound: another user's assertion is refused, the user's own spends the link`, async () => {
      const tenant = uniqueTenant('bind');
      const res = await call(tenant, asHeader(user));
      const problem = (await res.json()) as Record<string, string>;
      expect([res.status, problem['code']]).toEqual([401, 'reauth_required']);
      const url = problem['connect_url'] as string;

      expect(await back(url, tenant, 'bob')).toEqual({ status: 403, code: 'connect_identity_invalid' });
      // Near misses are other users too (no case folding, trimming or Unicode normalisation).
      expect(await back(url, tenant, user.toUpperCase())).toMatchObject({ status: 403 });
      expect(await back(url, tenant, `${user} `)).toMatchObject({ status: 403 });
      const nfd = user.normalize('NFD');
      if (nfd !== user) expect(await back(url, tenant, nfd)).toMatchObject({ status: 403 });
      expect(await stack.keygate.store.has(credentialRef(tenant, 'remote'))).toBe(false);
      expect(await back(url, tenant, user)).toEqual({ status: 303, code: null });
    });
  }

  for (const [what, header] of [
    ['empty', ''],
    ['over 1024 bytes', 'y'.repeat(1025)],
    ['not UTF-8 (a Latin-1 byte)', 'jos\u00e9'],
  ] as const) {
    it(`a keygate-user ${what} is refused at the call with 400 keygate_user_invalid, and no link is made`, async () => {
      const tenant = uniqueTenant('refuse');
      const res = await call(tenant, header);
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      expect([res.status, res.headers.get('x-keygate-error'), body.error?.code]).toEqual([
        400,
        'keygate_user_invalid',
        'keygate_user_invalid',
      ]);
      expect(body.error?.message).toMatch(/keygate-user/);
      expect(await stack.keygate.kv.list(`reauth-offer/${tenant}/`)).toEqual([]);
    });
  }

  it('1024 bytes of UTF-8 is still a user', async () => {
    const tenant = uniqueTenant('edge');
    const user = 'é'.repeat(512);
    const res = await call(tenant, asHeader(user));
    const problem = (await res.json()) as Record<string, string>;
    expect(res.status).toBe(401);
    const url = problem['connect_url'] as string;
    expect(await back(url, tenant, 'é'.repeat(511))).toMatchObject({ status: 403 });
    expect(await back(url, tenant, user)).toEqual({ status: 303, code: null });
  });
});
