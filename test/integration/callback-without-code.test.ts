import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { consent, providerIntegration, startConnect } from '../support/connect.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { openEventStream, type SseClient } from '../support/sse.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-callback-without-code-0123456789';

/**
 * Regression (issue 24): `GET /oauth/callback?state=<live state>` with neither `code` nor
 * `error` answered `502 token_endpoint_unavailable` ("the refresh will be retried")
 * although the token endpoint was never called, spent the flow and published a misleading
 * `connect-failed`. It is a client error: 400 oauth_callback_malformed, the token endpoint
 * is not called, nothing is published, and the flow stays open for the provider's real
 * callback.
 */
describe('callback-without-code', () => {
  let provider: OAuthProvider;
  let keygate: TestKeygate;
  let events: SseClient;

  beforeAll(async () => {
    provider = await startOAuthProvider();
    keygate = await startTestKeygate(
      `
admin: { token: ${ADMIN} }
events: { heartbeatSeconds: 0.2 }
oauth: { allowedReturnUrls: ["https://app.example/done"] }
integrations:
${providerIntegration('acme', provider)}`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
    events = await openEventStream(keygate.url, ADMIN);
  });
  afterAll(async () => {
    events?.close();
    await keygate?.close();
    await provider?.stop();
  });

  const about = (tenant: string) =>
    events.messages.filter((m) => (JSON.parse(m.data ?? '{}') as { tenant?: string }).tenant === tenant);

  for (const returnTo of [undefined, 'https://app.example/done']) {
    it(`a callback with a live state and neither code nor error is a 400 and leaves the flow open${returnTo ? ' (flow with returnTo)' : ''}`, async () => {
      const tenant = uniqueTenant('nocode');
      const started = await startConnect(keygate.url, ADMIN, tenant, 'acme', returnTo ? { returnTo } : {});
      expect(started.status).toBe(201);
      const { state } = started.body;
      const tokenRequests = provider.counts.requests;

      for (const [query, accept] of [
        [`state=${state}`, 'application/json'],
        [`state=${state}&code=`, 'application/json'],
        [`state=${state}&error=`, 'application/json'],
        [`state=${state}&iss=${encodeURIComponent(provider.url)}`, 'application/json'],
        [`state=${state}`, 'text/html'],
      ] as const) {
        const res = await fetch(`${keygate.url}/oauth/callback?${query}`, {
          redirect: 'manual',
          headers: { accept },
        });
        const text = await res.text();
        expect([res.status, res.headers.get('x-keygate-error')], `${query} ${text}`).toEqual([
          400,
          'oauth_callback_malformed',
        ]);
        expect(res.headers.get('location')).toBeNull();
        if (accept === 'application/json') {
          expect(JSON.parse(text)).toMatchObject({ error: { code: 'oauth_callback_malformed' } });
        } else {
          expect(res.headers.get('content-type')).toMatch(/^text\/html/);
          expect(text).toContain('oauth_callback_malformed');
        }
      }
      expect(provider.counts.requests).toBe(tokenRequests);

      // The provider's real callback still completes the flow ...
      const callback = await consent(started.body.authorizationUrl);
      const done = await fetch(callback, { redirect: 'manual', headers: { accept: 'application/json' } });
      await done.text();
      expect(done.status).toBe(returnTo ? 303 : 200);
      if (returnTo)
        expect(done.headers.get('location')).toMatch(/^https:\/\/app\.example\/done\?connected=acme/);
      expect((await keygate.store.read(credentialRef(tenant, 'acme'))).status).toBe('active');

      // ... and the events say so, with no connect-failed before it.
      await waitFor('the connected event', () => about(tenant).some((m) => m.event === 'connected'));
      expect(about(tenant).map((m) => m.event)).not.toContain('connect-failed');
    });
  }
});
