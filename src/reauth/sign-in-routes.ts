import type { FastifyInstance, FastifyReply } from 'fastify';
import type { Config } from '../config/schema.ts';
import { KeygateError, isKeygateError, type ErrorCode } from '../errors.ts';
import { bindingCookie } from '../http/cookies.ts';
import { PAGE_HEADERS } from '../http/page.ts';
import { errorResponses, htmlErrors } from '../http/schemas.ts';
import type { ConnectFlow } from '../oauth/connect.ts';
import type { Logger } from '../observability/logger.ts';
import type { KvStore } from '../vault/kv.ts';
import type { TransitKeys } from '../vault/transit.ts';
import { linkBinding } from './binding.ts';
import { TOKEN_FIELD, nonceCookie, nonceOf, sentFromElsewhere } from './forgery.ts';
import type { ConnectLink, ConnectLinks } from './links.ts';
import { OidcClient, SignInError } from './oidc-client.ts';
import { invalidPage } from './page.ts';
import { publicOrigin } from './responder.ts';
import { LinkSignIn, signInCookieName } from './sign-in.ts';
import { signInRefusedPage } from './sign-in-page.ts';
import { toProvider } from './to-provider.ts';

export interface SignInRouteDeps {
  config: Readonly<Config>;
  links: ConnectLinks;
  connect: ConnectFlow;
  kv: KvStore;
  transit: TransitKeys;
  logger: Logger;
}

/** The redirect URI to register with the issuer: `reauth.publicUrl` + this. */
export const SIGN_IN_CALLBACK_PATH = '/connect/oidc/callback';

// What these routes answer with a page (a browser is on the other end); anything else is JSON.
const AS_PAGE = new Set<ErrorCode>([
  'connect_link_invalid',
  'connect_identity_invalid',
  'connect_signin_invalid',
  'connect_cross_site',
  'identity_provider_unavailable',
]);

/**
 * `reauth.identity.oidc`: the connect page of a link made for a user posts to
 * `POST /connect/{id}/sign-in`, which sends the browser to the issuer (code + PKCE + nonce);
 * `GET /connect/oidc/callback` verifies the ID token and, when its `sub` is the link's user,
 * spends the link and goes on to the provider. Both 404 without `oidc`.
 */
export async function signInRoutes(app: FastifyInstance, deps: SignInRouteDeps): Promise<void> {
  const { config, links, connect, kv, transit, logger } = deps;
  const oidc = config.reauth.identity?.oidc;
  const signIn =
    oidc &&
    new LinkSignIn({
      kv,
      transit,
      links,
      client: new OidcClient({ ...oidc, timeoutMs: config.refresh.tokenTimeoutMs }),
      ttlSeconds: config.oauth.stateTtlSeconds,
    });
  // The page's form carries its anti-forgery token (forgery.ts), nothing else.
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: 4096 },
    (_request, body, done) => done(null, new URLSearchParams(body.toString())),
  );

  const page = (reply: FastifyReply, err: KeygateError, html: string) =>
    reply
      .code(err.statusCode)
      .headers({ ...PAGE_HEADERS, 'x-keygate-error': err.code })
      .send(html);
  const refused = (reply: FastifyReply, err: unknown, link: ConnectLink | undefined, origin: string) => {
    if (!isKeygateError(err) || !AS_PAGE.has(err.code)) throw err;
    if (err.code === 'connect_link_invalid') return page(reply, err, invalidPage(err.message));
    // The link is still there for the right user (nothing was spent), unless it was the link that failed.
    const again = link && err.code !== 'connect_signin_invalid' ? `${origin}/connect/${link.id}` : undefined;
    return page(reply, err, signInRefusedPage(err.message, again));
  };

  app.post<{ Params: { id: string }; Body: unknown }>(
    '/connect/:id/sign-in',
    { schema: START_SCHEMA },
    async (request, reply) => {
      if (!signIn) throw new KeygateError('not_found');
      const origin = publicOrigin(config, request);
      try {
        if (sentFromElsewhere(request.headers, origin)) {
          throw new KeygateError('connect_cross_site');
        }
        const { id } = request.params;
        if (linkBinding(config, await links.get(id)) !== 'sign-in') throw new KeygateError('not_found');
        // As the code's form: only from the link's page in the browser that opened it.
        const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
        const proof = {
          nonce: nonceOf(request.headers, id, origin.startsWith('https:')),
          token: form.get(TOKEN_FIELD) ?? '',
        };
        const link = await links.checkForm(id, proof);
        const started = await signIn.start(link, `${origin}${SIGN_IN_CALLBACK_PATH}`);
        const { name, value, maxAge } = started.cookie;
        reply.header(
          'set-cookie',
          bindingCookie(name, value, { path: SIGN_IN_CALLBACK_PATH, maxAge, secure: isHttps(origin) }),
        );
        return reply
          .code(303)
          .headers({ ...PAGE_HEADERS, location: started.authorizationUrl })
          .send('');
      } catch (err) {
        return refused(reply, err, undefined, origin);
      }
    },
  );

  app.get(SIGN_IN_CALLBACK_PATH, { schema: CALLBACK_SCHEMA }, async (request, reply) => {
    if (!signIn) throw new KeygateError('not_found');
    const origin = publicOrigin(config, request);
    const parameters = new URLSearchParams(request.raw.url?.split('?', 2)[1] ?? '');
    // Whatever happens, this sign-in is over: its cookie goes.
    const cookie = signInCookieName(parameters.get('state') ?? '');
    reply.header(
      'set-cookie',
      bindingCookie(cookie, '', { path: SIGN_IN_CALLBACK_PATH, maxAge: 0, secure: isHttps(origin) }),
    );
    let link: ConnectLink | undefined;
    try {
      const spent = await signIn.finish(parameters, request.headers.cookie, (found) => (link = found));
      const { tenant, integration, account } = spent;
      logger.info('connect link signed in', { event: 'connect-signed-in', tenant, integration, account });
      // The link is spent: its page's nonce cookie goes too.
      reply.header('set-cookie', nonceCookie(spent.id, '', isHttps(origin), 0));
      return await toProvider(request, reply, { config, connect }, spent);
    } catch (err) {
      if (isKeygateError(err)) {
        logger.warn('connect sign-in refused', {
          event: 'connect-sign-in-refused',
          code: err.code,
          ...(err instanceof SignInError ? { reason: err.reason } : {}),
          ...(link ? { tenant: link.tenant, integration: link.integration, account: link.account } : {}),
        });
      }
      return refused(reply, err, link, origin);
    }
  });
}

const isHttps = (origin: string) => origin.startsWith('https:');

const Params = {
  type: 'object',
  properties: { id: { type: 'string', description: 'The connect link id.' } },
};
const COMMON = errorResponses('not_found', 'internal_error', 'vault_unavailable');

const START_SCHEMA = {
  tags: ['oauth'],
  summary: 'Sign in with reauth.identity.oidc for a link made for a user (the connect page’s button)',
  description:
    'Sends the browser to the issuer (authorization code + PKCE + nonce) with a short-lived cookie that binds the sign-in to it. Refused when posted by a page of another site.',
  params: Params,
  response: {
    303: { description: 'On to the issuer (Location: its authorization URL).' },
    ...htmlErrors('connect_link_invalid', 'connect_cross_site', 'identity_provider_unavailable'),
    ...COMMON,
  },
};

const CALLBACK_SCHEMA = {
  tags: ['oauth'],
  summary: 'Where the issuer sends the browser back after a connect-link sign-in',
  description: `The redirect URI to register with the issuer: reauth.publicUrl + ${SIGN_IN_CALLBACK_PATH}. When the ID token's sub is the user the link was made for, the link is spent and the browser goes on to the provider.`,
  querystring: {
    type: 'object',
    properties: {
      code: { description: 'The authorization code.' },
      state: { description: 'The sign-in’s single-use state.' },
      iss: { description: 'The issuer (RFC 9207), checked when the issuer sends it.' },
      error: { description: 'Set by the issuer when the sign-in did not happen.' },
    },
  },
  response: {
    303: { description: 'On to the provider (Location: the authorization URL).' },
    ...htmlErrors(
      'connect_signin_invalid',
      'connect_identity_invalid',
      'connect_link_invalid',
      'identity_provider_unavailable',
    ),
    ...COMMON,
  },
};
