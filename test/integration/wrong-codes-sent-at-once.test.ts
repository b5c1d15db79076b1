import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SAME_ORIGIN_FORM, openConnectPage, submitCode, type ConnectPage } from '../support/browser.ts';
import { offeredLink, providerIntegration } from '../support/connect.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const WRONG = 'AAAA-AAAA';

/**
 * Regression (issue 24): twelve wrong confirmation codes sent concurrently were all judged
 * (400 connect_code_invalid each) and the right code afterwards still succeeded: the limit
 * of five was not atomic (a conflicting check-and-set on the counter was ignored). The
 * limit holds under any concurrency and across replicas: here two Keygate replicas on one
 * Vault take the posts for one link.
 */
describe('wrong-codes-sent-at-once', () => {
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let a: TestKeygate & ProxyAdmin;
  let b: TestKeygate & ProxyAdmin;
  let key: string;

  beforeAll(async () => {
    provider = await startOAuthProvider();
    upstream = await startUpstream();
    const yaml = `
integrations:
${providerIntegration('remote', provider, {}, upstream.origin)}`;
    [a, b] = await Promise.all([startProxyKeygate(yaml), startProxyKeygate(yaml)]);
    ({ key } = await a.createKey({ tenants: ['*'] }));
  });
  afterAll(async () => {
    await a?.close();
    await b?.close();
    await upstream?.stop();
    await provider?.stop();
  });

  const offer = (tenant: string) => offeredLink(a.url, key, tenant);
  // The same link on either replica: the page was opened on A; posts go to A and B in turn.
  const on = (replica: TestKeygate, id: string) => `${replica.url}/connect/${id}`;
  async function post(url: string, page: ConnectPage, code: string) {
    const res = await submitCode(url, page, code, SAME_ORIGIN_FORM);
    await res.text();
    return `${res.status} ${res.headers.get('x-keygate-error') ?? ''}`.trim();
  }
  const tally = (answers: string[]) =>
    answers.reduce<Record<string, number>>((n, s) => ({ ...n, [s]: (n[s] ?? 0) + 1 }), {});

  it('twelve wrong codes at once, on two replicas: exactly five are judged, the rest find the link spent, and the right code then fails', async () => {
    const tenant = uniqueTenant('burst');
    const { url, id, code } = await offer(tenant);
    const page = await openConnectPage(url);
    expect(page.status).toBe(200);
    const answers = await Promise.all(
      Array.from({ length: 12 }, (_, i) => post(on(i % 2 === 0 ? a : b, id), page, WRONG)),
    );
    expect(tally(answers)).toEqual({ '400 connect_code_invalid': 5, '410 connect_link_invalid': 7 });
    const stored = await a.kv.read<Record<string, unknown>>(`reauth-link/${id}`);
    expect(stored?.data).toMatchObject({ used: true, wrongCodes: 5 });

    expect(await post(on(a, id), page, code)).toBe('410 connect_link_invalid');
    expect(await post(on(b, id), page, code)).toBe('410 connect_link_invalid');
    expect(await a.store.has(credentialRef(tenant, 'remote'))).toBe(false);
  });

  it('four wrong codes racing the right one never cost the right one the link', async () => {
    for (let round = 0; round < 3; round++) {
      const tenant = uniqueTenant('race');
      const { url, id, code } = await offer(tenant);
      const page = await openConnectPage(url);
      const answers = await Promise.all([
        ...Array.from({ length: 4 }, (_, i) => post(on(i % 2 === 0 ? a : b, id), page, WRONG)),
        post(on(round % 2 === 0 ? b : a, id), page, code),
      ]);
      const right = answers.pop();
      expect(right, `round ${round}`).toBe('303');
      // A wrong code judged after the right one spent the link finds it spent.
      for (const answer of answers)
        expect(['400 connect_code_invalid', '410 connect_link_invalid']).toContain(answer);
      expect((await a.kv.read<Record<string, unknown>>(`reauth-link/${id}`))?.data).toMatchObject({
        used: true,
      });
    }
  });
});
