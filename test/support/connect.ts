import { expect } from 'vitest';
import { jsonFetch } from './http.ts';
import type { TestKeygate } from './keygate.ts';
import { startOAuthProvider, type OAuthProvider } from './oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from './proxy.ts';
import { startUpstream, type FakeUpstream, type Handler } from './upstream.ts';

/**
 * One OAuth integration played by the local provider double, as a configuration line
 * (`  name: {...}` under `integrations:`; JSON is YAML). `auth` adds or overrides fields;
 * `baseUrl` is where proxied calls go (by default the provider's own API).
 */
export function providerIntegration(
  name: string,
  provider: OAuthProvider,
  auth: Record<string, unknown> = {},
  baseUrl = `${provider.url}/api`,
): string {
  const integration = {
    baseUrl,
    auth: {
      type: 'oauth2',
      authorizationUrl: `${provider.url}/authorize`,
      tokenUrl: provider.tokenUrl,
      clientId: provider.clientId,
      clientSecret: provider.clientSecret,
      tokenEndpointAuthMethod: provider.options.authMethod,
      ...auth,
    },
  };
  return `  ${name}: ${JSON.stringify(integration)}\n`;
}

/**
 * A proxied call to the integration `remote` that meets no credential: the connect link it
 * is offered (401), the link's id and its confirmation code.
 */
export async function offeredLink(
  keygateUrl: string,
  key: string,
  tenant: string,
): Promise<{ url: string; id: string; code: string }> {
  const res = await fetch(`${keygateUrl}/proxy/${tenant}/remote/items`, {
    headers: { authorization: `Bearer ${key}` },
  });
  const problem = (await res.json()) as Record<string, string>;
  expect(res.status).toBe(401);
  const url = problem['connect_url'] as string;
  return { url, id: url.split('/').pop() as string, code: problem['confirmation_code'] as string };
}

/** The tenant's browser at the provider's consent screen: the callback URL it is sent back to. */
export async function consent(authorizationUrl: string): Promise<string> {
  const atProvider = await fetch(authorizationUrl, { redirect: 'manual' });
  expect(atProvider.status).toBe(302);
  return atProvider.headers.get('location') as string;
}

export interface StartedConnect {
  status: number;
  code: string | null;
  body: { authorizationUrl: string; state: string; expiresAt: string } & Record<string, unknown>;
}

/** POST /v1/tenants/{tenant}/connect/{integration} with the admin token; `body` undefined sends none. */
export async function startConnect(
  keygateUrl: string,
  admin: string,
  tenant: string,
  integration: string,
  body?: unknown,
): Promise<StartedConnect> {
  const res = await jsonFetch(
    `${keygateUrl}/v1/tenants/${tenant}/connect/${integration}`,
    'POST',
    body,
    admin,
  );
  const text = await res.text();
  return {
    status: res.status,
    code: res.headers.get('x-keygate-error'),
    body: (text.startsWith('{') ? JSON.parse(text) : {}) as StartedConnect['body'],
  };
}

/** A whole connect flow up to the provider's answer: start it, consent, and give the callback URL. */
export async function connectUpToCallback(
  keygateUrl: string,
  admin: string,
  tenant: string,
  integration: string,
  body: unknown = {},
): Promise<string> {
  const started = await startConnect(keygateUrl, admin, tenant, integration, body);
  expect([started.status, started.code]).toEqual([201, null]);
  return consent(started.body.authorizationUrl);
}

/** What the connect-link tests run against; `close` stops all of it. */
export interface ConnectStack {
  provider: OAuthProvider;
  upstream: FakeUpstream;
  keygate: TestKeygate & ProxyAdmin;
  /** A Keygate key for every tenant. */
  key: string;
  close(): Promise<void>;
}

/**
 * The OAuth provider double, an upstream (answering with `upstream(provider)` when given), and a
 * Keygate whose integration `remote` is the provider's with proxied calls going to the upstream,
 * `config` (YAML: `server:`, `reauth:`) above its integrations; and a key for every tenant.
 */
export async function startConnectStack(
  options: { config?: string; upstream?: (provider: OAuthProvider) => Handler } = {},
): Promise<ConnectStack> {
  const provider = await startOAuthProvider();
  const upstream = await startUpstream(options.upstream?.(provider));
  const stop = async (keygate?: TestKeygate) => {
    await keygate?.close();
    await upstream.stop();
    await provider.stop();
  };
  let keygate: (TestKeygate & ProxyAdmin) | undefined;
  try {
    keygate = await startProxyKeygate(`${options.config ?? ''}
integrations:
${providerIntegration('remote', provider, {}, upstream.origin)}`);
    const started = keygate;
    const { key } = await started.createKey({ tenants: ['*'] });
    return { provider, upstream, keygate: started, key, close: () => stop(started) };
  } catch (err) {
    await stop(keygate);
    throw err;
  }
}
