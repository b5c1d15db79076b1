import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.ts';
import { ERRORS, KeygateError, isKeygateError } from '../errors.ts';
import type { ConnectFlow } from '../oauth/connect.ts';
import { linkBinding, vouching } from './binding.ts';
import { verifyAssertion } from './identity.ts';
import type { ConnectLink, ConnectLinks } from './links.ts';
import { PAGE_HEADERS } from '../http/page.ts';
import { confirmPage, identityPage, invalidPage } from './page.ts';
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

/**
 * `GET /connect/{id}` shows what will be connected for which tenant. Then either the
 * confirmation code shown with the link is posted (`POST /connect/{id}`), or, with
 * `reauth.identity`, the embedding application vouches for its signed-in user
 * (`GET /connect/{id}/identified?assertion=`). Either spends the link and sends the
 * browser on to the provider (the connect flow: authorization code + PKCE). Not behind
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
    throw err;
  };
  // The link is spent: on to the provider through the connect flow, bound to this browser.
  const toProvider = (request: FastifyRequest, reply: FastifyReply, link: ConnectLink) =>
    goToProvider(request, reply, { config, connect }, link);

  app.get<{ Params: { id: string } }>(
    '/connect/:id',
    { schema: SHOW_LINK_SCHEMA },
    async (request, reply) => {
      try {
        const link = await links.get(request.params.id);
        if (issuerOrigin && linkBinding(config, link) === 'sign-in') {
          return page(reply, 200, signInPage(link, issuerOrigin));
        }
        if (!identity) return page(reply, 200, confirmPage(link));
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
        // A link made for a user under reauth.identity.oidc is spent by that user's sign-in only.
        if (oidc && linkBinding(config, await links.get(id)) === 'sign-in') {
          throw new KeygateError('not_found');
        }
        return await toProvider(request, reply, await links.redeem(id, form.get('code') ?? ''));
      } catch (err) {
        if (isKeygateError(err, 'connect_code_invalid')) {
          // Show the page again while the link lives (wrong codes are counted and end it).
          const live = await links.get(id).catch(() => undefined);
          if (live) return page(reply, 400, confirmPage(live, err.message), err.code);
          return page(reply, 410, invalidPage(ERRORS.connect_link_invalid.message), 'connect_link_invalid');
        }
        return refused(reply, err);
      }
    },
  );
}
