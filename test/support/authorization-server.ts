import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import Provider from 'oidc-provider';

export interface AuthorizationServer {
  /** The issuer (`iss` of its tokens), on loopback. */
  issuer: string;
  /** The account a programmatic login signs in as (the token's `sub`), settable per test. */
  accountId: string;
  /** Claims added to every access token (e.g. `tenant`). */
  extraClaims: Record<string, unknown>;
  /** Scopes the user declines at the next consents (each consent takes them out of here). */
  declineOnce: Set<string>;
  /** Consents given so far. */
  consents: number;
  /** Access tokens issued, for canary hunting. */
  issued: string[];
  /** Every resource (RFC 8707) a token was asked for. */
  resources: string[];
  /**
   * The user's browser: follows the authorization URL through the login and consent
   * screens (answered programmatically: the user says yes) to the client's redirect URI,
   * and returns that final URL (with `code`, `state` and `iss`).
   */
  authorize(authorizationUrl: URL | string): Promise<URL>;
  stop(): Promise<void>;
}

/**
 * A real OpenID provider (`oidc-provider`, certified) on loopback, as an MCP deployment's
 * authorization server: dynamic client registration (RFC 7591), authorization code + PKCE,
 * resource indicators (RFC 8707) with JWT access tokens (RFC 9068, `typ: at+jwt`, ES256)
 * whose `aud` is the requested resource and whose scopes are the requested `keygate:*`
 * ones. Login and consent are programmatic: the interaction route signs `accountId` in
 * and grants what was asked.
 */
export async function startAuthorizationServer(
  options: {
    accountId?: string;
    extraClaims?: Record<string, unknown>;
    ttlSeconds?: number;
    /** Integrations whose `keygate:proxy:{integration}` scope clients may register for. */
    integrations?: string[];
  } = {},
): Promise<AuthorizationServer> {
  const http = createServer();
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const issuer = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  const { privateKey } = await generateKeyPair('ES256', { extractable: true });
  const signing = { ...(await exportJWK(privateKey)), kid: 'as-key-1', alg: 'ES256', use: 'sig' };
  const server: AuthorizationServer = {
    issuer,
    accountId: options.accountId ?? 'alice',
    extraClaims: options.extraClaims ?? {},
    issued: [],
    resources: [],
    declineOnce: new Set(),
    consents: 0,
    authorize: (url) => browse(new URL(url)),
    stop: () =>
      new Promise((resolve) => {
        http.closeAllConnections();
        http.close(() => resolve());
      }),
  };
  const provider = new Provider(issuer, {
    jwks: { keys: [signing] },
    scopes: [
      'openid',
      'offline_access',
      'keygate:proxy',
      ...(options.integrations ?? []).map((i) => `keygate:proxy:${i}`),
    ],
    clientDefaults: { id_token_signed_response_alg: 'ES256' },
    findAccount: (_ctx: unknown, id: string) => ({ accountId: id, claims: () => ({ sub: id }) }),
    features: {
      devInteractions: { enabled: false },
      registration: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => undefined,
        useGrantedResource: () => true,
        getResourceServerInfo: (_ctx: unknown, resource: string) => {
          server.resources.push(resource);
          const integration = /\/proxy\/[^/]+\/([^/]+)$/.exec(resource)?.[1] ?? '';
          return {
            scope: `keygate:proxy keygate:proxy:${integration}`,
            audience: resource,
            accessTokenTTL: options.ttlSeconds ?? 600,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: 'ES256' } },
          };
        },
      },
    },
    extraTokenClaims: () => server.extraClaims,
    interactions: { url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}` },
    pkce: { required: () => true },
    ttl: { AccessToken: 600, AuthorizationCode: 60, Grant: 600, Interaction: 600, Session: 600 },
  });
  provider.on('access_token.issued', (token) => {
    const jwt = (token as { jwt?: string }).jwt;
    if (jwt) server.issued.push(jwt);
  });
  const oidc = provider.callback();

  // The user's side of the screens: sign in as accountId, grant every scope asked for.
  const interaction = async (req: IncomingMessage, res: ServerResponse) => {
    const details = await provider.interactionDetails(req, res);
    if (details.prompt.name === 'login') {
      await provider.interactionFinished(req, res, { login: { accountId: server.accountId } });
      return;
    }
    const grant = details.grantId
      ? ((await provider.Grant.find(details.grantId)) as NonNullable<
          Awaited<ReturnType<typeof provider.Grant.find>>
        >)
      : new provider.Grant({
          accountId: details.session?.accountId ?? '',
          clientId: String(details.params['client_id']),
        });
    const missing = details.prompt.details as {
      missingOIDCScope?: string[];
      missingResourceScopes?: Record<string, string[]>;
    };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(' '));
    for (const [resource, scopes] of Object.entries(missing.missingResourceScopes ?? {})) {
      const declined = scopes.filter((s) => server.declineOnce.delete(s));
      const granted = scopes.filter((s) => !declined.includes(s));
      if (granted.length > 0) grant.addResourceScope(resource, granted.join(' '));
      if (declined.length > 0) grant.rejectResourceScope(resource, declined.join(' '));
    }
    server.consents += 1;
    await provider.interactionFinished(
      req,
      res,
      { consent: { grantId: await grant.save() } },
      { mergeWithLastSubmission: true },
    );
  };
  http.on('request', (req, res) => {
    if (req.url?.startsWith('/interaction/')) {
      interaction(req, res).catch((err: unknown) => {
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end(String(err));
      });
    } else oidc(req, res);
  });

  // A browser with a cookie jar, stopping where the provider sends it off-site (the client).
  async function browse(start: URL): Promise<URL> {
    const cookies = new Map<string, string>();
    let url = start;
    for (let hop = 0; hop < 10; hop += 1) {
      if (url.origin !== issuer) return url;
      const res = await fetch(url, {
        redirect: 'manual',
        headers: { cookie: [...cookies].map(([k, v]) => `${k}=${v}`).join('; ') },
      });
      for (const line of res.headers.getSetCookie()) {
        const [pair] = line.split(';');
        const at = pair?.indexOf('=') ?? -1;
        if (pair && at > 0) cookies.set(pair.slice(0, at), pair.slice(at + 1));
      }
      const location = res.headers.get('location');
      const body = await res.text();
      if (!location)
        throw new Error(`authorization stopped at ${url.pathname}: ${res.status} ${body.slice(0, 300)}`);
      url = new URL(location, url);
    }
    throw new Error('authorization: too many redirects');
  }
  return server;
}
