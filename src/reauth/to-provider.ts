import { randomBytes } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Config } from '../config/schema.ts';
import { bindingCookie } from '../http/cookies.ts';
import { PAGE_HEADERS } from '../http/page.ts';
import { connectCookieName } from '../oauth/callback-route.ts';
import type { ConnectFlow } from '../oauth/connect.ts';
import type { ConnectLink } from './links.ts';
import { publicOrigin } from './responder.ts';

/**
 * A spent link goes on to the provider through the connect flow, bound to this browser: a
 * random secret in a cookie scoped to the callback's path, its digest in the flow's state
 * record, so a provider URL forwarded to someone else (after the code, the assertion or the
 * sign-in was passed here) cannot bring their account back into this link. Only where the
 * callback is on the host name the browser is on (else the cookie could not reach it).
 */
export async function toProvider(
  request: FastifyRequest,
  reply: FastifyReply,
  { config, connect }: { config: Readonly<Config>; connect: ConnectFlow },
  link: ConnectLink,
) {
  const fallbackCallbackUrl = `${request.protocol}://${request.host}/oauth/callback`;
  const callback = new URL(config.oauth.callbackUrl ?? fallbackCallbackUrl);
  // Cookies belong to a host name, whatever the port.
  const bound = callback.hostname === request.hostname;
  const browser = bound ? randomBytes(32).toString('base64url') : undefined;
  const started = await connect.start(link, { fallbackCallbackUrl, browser });
  reply.code(303).headers({ ...PAGE_HEADERS, location: started.authorizationUrl });
  if (browser !== undefined) {
    const cookie = bindingCookie(connectCookieName(started.state), browser, {
      path: callback.pathname,
      maxAge: config.oauth.stateTtlSeconds,
      secure: publicOrigin(config, request).startsWith('https:') || callback.protocol === 'https:',
    });
    reply.header('set-cookie', cookie);
  }
  return reply.send('');
}
