import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.ts';
import { KeygateError, isKeygateError } from '../errors.ts';
import type { ConnectFlow } from '../oauth/connect.ts';
import { linkBinding, vouching } from './binding.ts';
import { TOKEN_FIELD, nonceCookie, nonceOf, sentFromElsewhere } from './forgery.ts';
import { verifyAssertion } from './identity.ts';
import type { ConnectLink, ConnectLinks } from './links.ts';
import { PAGE_HEADERS } from '../http/page.ts';
import { confirmPage, identityPage, invalidPage, refusedPage } from './page.ts';
import { publicOrigin } from './responder.ts';
import { signInPage } from './sign-in-page.ts';
import { toProvider as goToProvider } from './to-provider.ts';
import { IDENTIFIED_SCHEMA, REDEEM_LINK_SCHEMA, SHOW_LINK_SCHEMA } from './schemas.ts';

export interface ConnectPageDeps {
  config: Readonly<Config>;
  links: ConnectLinks;
  connect: ConnectFlow;
}

const FORM_LIMIT = 4096;
const LINK_ENDED = 'This link can no longer be used.';

/**
 * `GET /connect/{id}` shows what will be connected for which tenant. Then either the
 * confirmation code shown with the link is posted (`POST /connect/{id}`, from that page in
 * that browser only: forgery.ts), or, with `reauth.identity`, the embedding application
 * vouches for its signed-in user (`GET /connect/{id}/identified?assertion=`), or, with
 * `reauth.identity.oidc`, the user the link was made for signs in (sign-in-routes.ts). Each
 * spends the link and sends the browser on to the provider (the connect flow: authorization
 * code + PKCE, bound to this browser: to-provider.ts). Not behind
 * the admin token: the unguessable, single-use, expiring id plus that proof authorise
 * starting that one flow, and nothing else.
 */
export async function connectPageRoutes(
  app: FastifyInstance,
  { config, links, connect }: ConnectPageDeps,
): Promise<void> {
  const identity = vouching(config);
  const oidc = config.reauth.identity?.oidc;
  const issuerOrigin = oidc && new URL(oidc.issuer).origin;
  app.addContentTypeParser(
    'application/x-www-form-urlencoded',
    { parseAs: 'string', bodyLimit: FORM_LIMIT },
    (_request, body, done) => done(null, new URLSearchParams(body.toString())),
  );

  const page = (reply: FastifyReply, status: number, html: string, code?: string) => {
    reply.code(status).headers(PAGE_HEADERS);
    if (code) reply.header('x-keygate-error', code);
    return reply.send(html);
  };
  const refused = (reply: FastifyReply, err: unknown) => {
    if (isKeygateError(err, 'connect_link_invalid'))
      return page(reply, 410, invalidPage(err.message), err.code);
    if (isKeygateError(err, 'connect_identity_invalid')) {
      return page(reply, 403, invalidPage(err.message), err.code);
    }
    if (isKeygateError(err, 'connect_cross_site'))
      return page(reply, 403, refusedPage(err.message), err.code);
    throw err;
  };
  // A page with a form for this browser (the code's, or the sign-in's): the form token for
  // its nonce, the nonce set as a cookie; the post is checked against both (forgery.ts).
  const formPage = async (
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    status: number,
    render: (link: ConnectLink, token: string) => string,
    error?: KeygateError,
  ) => {
    const { id } = request.params;
    const secure = isSecure(request);
    const opened = await links.open(id, nonceOf(request.headers, id, secure));
    const lifeSeconds = (Date.parse(opened.link.expiresAt) - Date.now()) / 1000;
    reply.header('set-cookie', nonceCookie(id, opened.nonce, secure, lifeSeconds));
    return page(reply, status, render(opened.link, opened.token), error?.code);
  };
  const confirm = (
    request: FastifyRequest<{ Params: { id: string } }>,
    reply: FastifyReply,
    status: number,
    error?: KeygateError,
  ) => formPage(request, reply, status, (link, token) => confirmPage(link, token, error?.message), error);
  const isSecure = (request: FastifyRequest) => publicOrigin(config, request).startsWith('https:');
  // The link is spent: on to the provider through the connect flow, bound to this browser.
  const toProvider = (request: FastifyRequest, reply: FastifyReply, link: ConnectLink) =>
    goToProvider(request, reply, { config, connect }, link);

  app.get<{ Params: { id: string } }>(
    '/connect/:id',
    { schema: SHOW_LINK_SCHEMA },
    async (request, reply) => {
      try {
        if (issuerOrigin) {
          const link = await links.get(request.params.id);
          if (linkBinding(config, link) === 'sign-in') {
            return await formPage(request, reply, 200, (live, token) =>
              signInPage(live, issuerOrigin, token),
            );
          }
        }
        if (!identity) return await confirm(request, reply, 200);
        const link = await links.get(request.params.id);
        const returnTo = `${publicOrigin(config, request)}/connect/${link.id}/identified`;
        return page(reply, 200, identityPage(link, identity.url, returnTo));
      } catch (err) {
        return refused(reply, err);
      }
    },
  );

  app.get<{ Params: { id: string }; Querystring: { assertion?: string } }>(
    '/connect/:id/identified',
    { schema: IDENTIFIED_SCHEMA },
    async (request, reply) => {
      if (!identity) throw new KeygateError('not_found');
      try {
        const link = await links.redeemFor(request.params.id, (live) =>
          verifyAssertion(identity.secret, String(request.query.assertion ?? ''), {
            link: live.id,
            tenant: live.tenant,
            subject: live.subject,
          }),
        );
        return await toProvider(request, reply, link);
      } catch (err) {
        return refused(reply, err);
      }
    },
  );

  app.post<{ Params: { id: string }; Body: unknown }>(
    '/connect/:id',
    { schema: REDEEM_LINK_SCHEMA },
    async (request, reply) => {
      // With reauth.identity the application's sign-in is the binding; a code is not accepted.
      if (identity) throw new KeygateError('not_found');
      const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
      const { id } = request.params;
      try {
        // Refused before the link is read: nothing is spent or counted.
        if (sentFromElsewhere(request.headers, publicOrigin(config, request))) {
          throw new KeygateError('connect_cross_site');
        }
        // A link made for a user under reauth.identity.oidc is spent by that user's sign-in only.
        if (oidc && linkBinding(config, await links.get(id)) === 'sign-in') {
          throw new KeygateError('not_found');
        }
        const proof = {
          nonce: nonceOf(request.headers, id, isSecure(request)),
          token: form.get(TOKEN_FIELD) ?? '',
        };
        return await toProvider(request, reply, await links.redeem(id, form.get('code') ?? '', proof));
      } catch (err) {
        if (!isKeygateError(err, 'connect_code_invalid')) return refused(reply, err);
        // Judged wrong: the page again while the link lives; the fifth wrong code ended it.
        try {
          return await confirm(request, reply, 400, err);
        } catch (gone) {
          if (!isKeygateError(gone, 'connect_link_invalid')) throw gone;
          return page(reply, 400, invalidPage(`${err.message} ${LINK_ENDED}`), err.code);
        }
      }
    },
  );
}
