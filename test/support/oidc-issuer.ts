import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair } from 'jose';
import { CookieBrowser } from './cookie-browser.ts';
import { freePort } from './ports.ts';

/**
 * A real OpenID provider (`oidc-provider`, a certified implementation) on loopback, for the
 * parts of Keygate that sign people in. Its login is programmatic but goes through the
 * provider's own interaction machinery (interaction cookies, grants, consent): the
 * interaction page is a plain form asking for a user name, which a test browser (fetch or
 * Chromium) fills in; the name becomes the account's `sub`. PKCE is required for every
 * client, ID tokens are RS256-signed with a key made at start.
 *
 * With `resourceServer`, it is also an MCP deployment's authorization server: dynamic
 * client registration (RFC 7591), resource indicators (RFC 8707) with JWT access tokens
 * (RFC 9068, `typ: at+jwt`) whose `aud` is the requested resource, the `keygate:*` scopes
 * asked for granted at sign-in (but those the user declines), and extra claims in every
 * access token.
 */
export interface OidcIssuer {
  /** The issuer identifier (also its origin). */
  url: string;
  /** Registers the clients (before the first sign-in; a later call replaces them and any state). */
  setClients(clients: OidcClientMetadata[]): Promise<void>;
  /** Every authorization code and token it issued, for canary hunting. */
  issued(): string[];
  /** Users who signed in, in order. */
  logins: string[];
  /** Authorization and token requests it served, for "was the issuer asked?" assertions. */
  counts: { authorizations: number; tokens: number };
  /** Claims added to every access token (e.g. `tenant`), with `resourceServer`. */
  extraClaims: Record<string, unknown>;
  /** Scopes the user declines the next time they are asked for (each is then taken out of here). */
  declineOnce: Set<string>;
  stop(): Promise<void>;
}

export interface ResourceServerOptions {
  /** Scopes clients may register for and ask for (`keygate:proxy`, `keygate:proxy:{integration}`). */
  scopes: string[];
  accessTokenTtlSeconds?: number;
}

export interface OidcClientMetadata {
  client_id: string;
  client_secret?: string;
  redirect_uris: string[];
  token_endpoint_auth_method?: 'client_secret_basic' | 'client_secret_post' | 'none';
}

// oidc-provider ships no types (and @types/oidc-provider is not a dependency): the little
// used here, typed by hand, loaded by a name TypeScript does not resolve.
interface Provider {
  callback(): (req: IncomingMessage, res: ServerResponse) => void;
  on(event: string, listener: (arg: any) => void): void;
  interactionDetails(
    req: IncomingMessage,
    res: ServerResponse,
  ): Promise<{ uid: string; params: Record<string, string>; prompt: { name: string } }>;
  interactionFinished(
    req: IncomingMessage,
    res: ServerResponse,
    result: Record<string, unknown>,
    options?: { mergeWithLastSubmission?: boolean },
  ): Promise<void>;
  Grant: new (fields: { accountId: string; clientId: string }) => {
    addOIDCScope(scope: string): void;
    addResourceScope(resource: string, scope: string): void;
    rejectResourceScope(resource: string, scope: string): void;
    save(): Promise<string>;
  };
}
type ProviderClass = new (issuer: string, configuration: Record<string, unknown>) => Provider;
const OIDC_PROVIDER: string = 'oidc-provider';

/** `hostname`: how the issuer's URL names loopback (e.g. `localhost`, a site apart from `127.0.0.1`). */
export async function startOidcIssuer(
  options: { hostname?: string; resourceServer?: ResourceServerOptions } = {},
): Promise<OidcIssuer> {
  const { default: ProviderImpl } = (await import(OIDC_PROVIDER)) as { default: ProviderClass };
  const { privateKey } = await generateKeyPair('RS256', { extractable: true });
  const jwk = {
    ...(await exportJWK(privateKey)),
    kid: randomBytes(8).toString('hex'),
    alg: 'RS256',
    use: 'sig',
  };
  const issued: string[] = [];
  const logins: string[] = [];
  const counts = { authorizations: 0, tokens: 0 };
  const extraClaims: Record<string, unknown> = {};
  const { resourceServer } = options;
  const declineOnce = new Set<string>();
  let provider: Provider | undefined;
  let handle: ((req: IncomingMessage, res: ServerResponse) => void) | undefined;

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://issuer');
    const interaction = /^\/interaction\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    if (!provider || !handle) {
      res.writeHead(503).end('no clients registered yet');
      return;
    }
    if (interaction) {
      void login(provider, req, res, interaction[1] as string).catch((err: unknown) => {
        res.writeHead(400, { 'content-type': 'text/plain' }).end(String((err as Error).message));
      });
      return;
    }
    if (url.pathname === '/auth') counts.authorizations++;
    if (url.pathname === '/token') counts.tokens++;
    handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://${options.hostname ?? '127.0.0.1'}:${port}`;

  // The interaction: GET shows the form, POST signs the named user in and grants `openid`.
  async function login(p: Provider, req: IncomingMessage, res: ServerResponse, uid: string) {
    const details = await p.interactionDetails(req, res);
    if (details.uid !== uid) throw new Error('interaction mismatch');
    if (req.method === 'GET') {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(
        `<!doctype html><title>Sign in</title><form method="post" action="/interaction/${uid}">` +
          `<label>User <input name="login" autofocus></label><button type="submit">Sign in</button></form>`,
      );
      return;
    }
    const body = new URLSearchParams(await readBody(req));
    const user = body.get('login') ?? '';
    if (!user) throw new Error('no user name');
    const grant = new p.Grant({ accountId: user, clientId: details.params['client_id'] as string });
    grant.addOIDCScope('openid');
    const asked = (
      details.prompt as {
        details?: { missingOIDCScope?: string[]; missingResourceScopes?: Record<string, string[]> };
      }
    ).details;
    // The provider lists a resource's scopes among the OpenID ones too; granting them there
    // puts nothing in the resource's token. Declining is done for the resource: a token
    // for it comes without that scope (denying the OpenID scope would deny the whole request).
    const declining = new Set(declineOnce);
    const oidc = asked?.missingOIDCScope ?? [];
    if (oidc.length > 0) grant.addOIDCScope(oidc.join(' '));
    for (const [resource, scopes] of Object.entries(asked?.missingResourceScopes ?? {})) {
      const granted = scopes.filter((scope) => !declining.has(scope));
      const declined = scopes.filter((scope) => declining.has(scope));
      if (granted.length > 0) grant.addResourceScope(resource, granted.join(' '));
      if (declined.length > 0) grant.rejectResourceScope(resource, declined.join(' '));
      for (const scope of declined) declineOnce.delete(scope);
    }
    const grantId = await grant.save();
    logins.push(user);
    await p.interactionFinished(
      req,
      res,
      { login: { accountId: user }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
  }

  return {
    url,
    logins,
    counts,
    extraClaims,
    declineOnce,
    issued: () => [...issued],
    async setClients(clients) {
      provider = new ProviderImpl(url, {
        clients,
        jwks: { keys: [jwk] },
        cookies: { keys: [randomBytes(32).toString('hex')] },
        features: {
          devInteractions: { enabled: false },
          ...(resourceServer ? resourceFeatures(resourceServer) : {}),
        },
        ...(resourceServer
          ? {
              scopes: ['openid', 'offline_access', ...resourceServer.scopes],
              extraTokenClaims: () => extraClaims,
            }
          : {}),
        interactions: {
          url: (_ctx: unknown, interaction: { uid: string }) => `/interaction/${interaction.uid}`,
        },
        pkce: { required: () => true },
        ttl: {
          AuthorizationCode: 60,
          AccessToken: 600,
          IdToken: 600,
          Interaction: 600,
          Grant: 600,
          Session: 600,
        },
        findAccount: (_ctx: unknown, sub: string) => ({ accountId: sub, claims: () => ({ sub }) }),
      });
      provider.on('authorization_code.saved', (code: { jti: string }) => issued.push(code.jti));
      provider.on('grant.success', (ctx: { body?: Record<string, unknown> }) => {
        for (const name of ['access_token', 'id_token', 'refresh_token']) {
          const value = ctx.body?.[name];
          if (typeof value === 'string') issued.push(value);
        }
      });
      handle = provider.callback();
    },
    async stop() {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

// Resource indicators: a token for exactly the resource asked for, as a JWT, with the
// requested scopes the resource has (keygate:proxy, keygate:proxy:{integration}).
function resourceFeatures({ scopes, accessTokenTtlSeconds = 600 }: ResourceServerOptions) {
  return {
    registration: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => undefined,
      useGrantedResource: () => true,
      getResourceServerInfo: (_ctx: unknown, resource: string) => ({
        audience: resource,
        scope: scopes.join(' '),
        accessTokenTTL: accessTokenTtlSeconds,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'RS256' } },
      }),
    },
  };
}

/** The configuration of a Keygate whose connect links sign their users in at the issuer. */
export interface LinkSignIn {
  /** `server:` YAML: Keygate on the free loopback port that the client's callback names. */
  server: string;
  /** `reauth:` YAML: links at that address, their users signed in as client `keygate-links`. */
  reauth: string;
}

/**
 * Registers Keygate's connect-link sign-in at the issuer: the client `keygate-links` with
 * `clientSecret` and its callback on a free port Keygate is to take, beside `others`.
 */
export async function registerLinkSignIn(
  issuer: OidcIssuer,
  clientSecret: string,
  others: OidcClientMetadata[] = [],
): Promise<LinkSignIn> {
  const port = await freePort();
  const publicUrl = `http://127.0.0.1:${port}`;
  await issuer.setClients([
    {
      client_id: 'keygate-links',
      client_secret: clientSecret,
      redirect_uris: [`${publicUrl}/connect/oidc/callback`],
    },
    ...others,
  ]);
  return {
    server: `server: { host: 127.0.0.1, port: ${port} }`,
    reauth: `reauth:
  publicUrl: ${publicUrl}
  identity: { oidc: { issuer: "${issuer.url}", clientId: keygate-links, clientSecret: ${clientSecret} } }`,
  };
}

/**
 * The user's browser at the issuer: from the authorization URL through the sign-in form
 * (filled in as `user`) to the client's redirect URI, which is returned (with `code`,
 * `state` and `iss`) and not visited.
 */
export async function signInAt(
  issuer: OidcIssuer,
  authorizationUrl: URL | string,
  user: string,
): Promise<URL> {
  const browser = new CookieBrowser();
  const atIssuer = (url: URL) => url.origin === new URL(issuer.url).origin;
  let visit = await browser.visit(String(authorizationUrl));
  // Redirects within the issuer are followed; its form (sign-in, then consent for what
  // the sign-in did not cover) is filled in, until the issuer sends the browser away.
  for (let step = 0; step < 12; step += 1) {
    if (visit.location) {
      if (!atIssuer(new URL(visit.location))) return new URL(visit.location);
      visit = await browser.visit(visit.location);
    } else if (/<form method="post"/.test(visit.text)) {
      visit = await browser.visit(visit.url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ login: user }).toString(),
      });
    } else break;
  }
  throw new Error(`the sign-in stopped at ${visit.url}: ${visit.status} ${visit.text.slice(0, 300)}`);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
