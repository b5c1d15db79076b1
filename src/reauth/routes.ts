import type { FastifyInstance, FastifyReply } from 'fastify';
import { ERRORS, isKeygateError } from '../errors.ts';
import type { ConnectFlow } from '../oauth/connect.ts';
import type { ConnectLinks } from './links.ts';
import { PAGE_HEADERS, confirmPage, invalidPage } from './page.ts';

export interface ConnectPageDeps {
  links: ConnectLinks;
  connect: ConnectFlow;
}

const FORM_LIMIT = 4096;

/**
 * `GET /connect/{id}` shows what will be connected for which tenant and asks for the
 * confirmation code shown with the link; `POST /connect/{id}` spends the link and
 * sends the browser on to the provider (the connect flow: authorization code + PKCE).
 * Not behind the admin token: the unguessable, single-use, expiring id plus the code
 * authorise starting that one flow, and nothing else.
 */
export async function connectPageRoutes(
  app: FastifyInstance,
  { links, connect }: ConnectPageDeps,
): Promise<void> {
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

  app.get<{ Params: { id: string } }>('/connect/:id', async (request, reply) => {
    try {
      return page(reply, 200, confirmPage(await links.get(request.params.id)));
    } catch (err) {
      if (!isKeygateError(err, 'connect_link_invalid')) throw err;
      return page(reply, 410, invalidPage(err.message), err.code);
    }
  });

  app.post<{ Params: { id: string }; Body: unknown }>('/connect/:id', async (request, reply) => {
    const form = request.body instanceof URLSearchParams ? request.body : new URLSearchParams();
    const { id } = request.params;
    try {
      const link = await links.redeem(id, form.get('code') ?? '');
      const started = await connect.start(link.tenant, link.integration, {
        fallbackCallbackUrl: `${request.protocol}://${request.host}/oauth/callback`,
      });
      return reply
        .code(303)
        .headers({ ...PAGE_HEADERS, location: started.authorizationUrl })
        .send('');
    } catch (err) {
      if (isKeygateError(err, 'connect_code_invalid')) {
        // Show the page again while the link lives (wrong codes are counted and end it).
        const live = await links.get(id).catch(() => undefined);
        if (live) return page(reply, 400, confirmPage(live, err.message), err.code);
        return page(reply, 410, invalidPage(ERRORS.connect_link_invalid.message), 'connect_link_invalid');
      }
      if (isKeygateError(err, 'connect_link_invalid'))
        return page(reply, 410, invalidPage(err.message), err.code);
      throw err;
    }
  });
}
