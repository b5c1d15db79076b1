import type { IncomingHttpHeaders } from 'node:http';
import type { ProxyReply, ProxyRequest } from '../http/exchange.ts';
import type { Config } from '../config/schema.ts';
import type { Credential } from '../credentials/types.ts';
import { KeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { ProxyBody } from '../proxy/body.ts';
import { linkBinding } from './binding.ts';
import { mcpAnswer, offerMessage, problemAnswer, type ReauthOffer } from './answers.ts';
import type { ConnectLinks, LinkTarget } from './links.ts';
import { mcpCallOf, speaksMrtr } from './mcp-request.ts';
import { INPUT_KEY, checkRequestState, makeRequestState, type StateSubject } from './request-state.ts';

/** The proxied call that met a dead credential. */
export interface ReauthContext extends LinkTarget {
  /** The caller's Keygate key id: the principal a 2026-07-28 requestState is bound to. */
  keyId: string;
  /** The caller's user (`keygate-user`), hashed, when it named one. */
  subject?: string | undefined;
}

/**
 * What the proxy does when it has no usable credential for an OAuth integration that
 * can be connected: it answers the caller, in the caller's protocol, with a link to
 * `GET /connect/{id}` (shared by every caller meeting the same credential).
 */
export class ReauthResponder {
  readonly #config: Readonly<Config>;
  readonly #links: ConnectLinks;
  readonly #logger: Logger;

  constructor({ config, links, logger }: { config: Readonly<Config>; links: ConnectLinks; logger: Logger }) {
    this.#config = config;
    this.#links = links;
    this.#logger = logger;
  }

  /** True for integrations the tenant can connect through Keygate (oauth2 with an authorization URL). */
  covers(integration: string): boolean {
    const auth = this.#config.integrations[integration]?.auth;
    return auth?.type === 'oauth2' && auth.authorizationUrl !== undefined && auth.clientId !== undefined;
  }

  /** A stored credential that only the tenant can revive. */
  isDead(credential: Credential): boolean {
    return credential.status === 'needs_reauth';
  }

  async answer(
    request: ProxyRequest,
    reply: ProxyReply,
    context: ReauthContext,
    body: ProxyBody,
  ): Promise<void> {
    const link = await this.#links.offer(context);
    const code = linkBinding(this.#config, link) === 'code' ? link.code : undefined;
    const offer: ReauthOffer = {
      link,
      url: `${publicOrigin(this.#config, request)}/connect/${link.id}`,
      message: offerMessage(link, code),
      code,
    };
    const call = mcpCallOf(request.method, request.headers, body);
    const answer = call
      ? mcpAnswer(call, offer, () => makeRequestState(stateSubject(context, call.method, call.name)))
      : problemAnswer(offer, request.id);
    this.#logger.info('reauth offered', {
      event: 'reauth-offered',
      requestId: request.id,
      tenant: context.tenant,
      integration: context.integration,
      account: context.account,
      protocol: call ? `mcp ${call.protocolVersion ?? 'unknown'}` : 'http',
    });
    reply.code(answer.status);
    reply.header('x-keygate-error', 'reauth_required');
    reply.header('cache-control', 'no-store');
    if (answer.challenge !== undefined) reply.header('www-authenticate', answer.challenge);
    reply.header('content-type', answer.contentType);
    reply.send(answer.body);
  }

  /**
   * A 2026-07-28 call retried after Keygate's InputRequiredResult: Keygate's requestState
   * and inputResponses entry are taken out, so the upstream sees the call as first sent.
   * Anything else is returned as it came (cheaply: only MRTR callers' bodies are parsed).
   */
  resume(request: ProxyRequest, context: ReauthContext, body: ProxyBody): ProxyBody {
    if (body.kind !== 'buffered' || !speaksMrtr(header(request.headers, 'mcp-protocol-version'))) return body;
    if (!body.data.includes('keygate.v1.')) return body;
    const call = mcpCallOf(request.method, request.headers, body);
    const params = call?.params;
    if (!call || !params) return body;
    const check = checkRequestState(params['requestState'], stateSubject(context, call.method, call.name));
    if (check === 'foreign') return body;
    if (check === 'invalid') {
      throw new KeygateError('bad_request', {
        message: "The requestState is not Keygate's for this caller and request, or it has expired.",
      });
    }
    const message = JSON.parse(body.data.toString('utf8')) as { params: Record<string, unknown> };
    delete message.params['requestState'];
    const responses = message.params['inputResponses'];
    if (typeof responses === 'object' && responses !== null) {
      delete (responses as Record<string, unknown>)[INPUT_KEY];
      if (Object.keys(responses).length === 0) delete message.params['inputResponses'];
    }
    return { kind: 'buffered', data: Buffer.from(JSON.stringify(message)) };
  }
}

/** Where browsers reach Keygate: configured, else the callback URL's origin, else this request's host. */
export function publicOrigin(
  config: Readonly<Config>,
  request: Pick<ProxyRequest, 'protocol' | 'host'>,
): string {
  const { reauth, oauth } = config;
  if (reauth.publicUrl) return reauth.publicUrl.replace(/\/+$/, '');
  if (oauth.callbackUrl) return new URL(oauth.callbackUrl).origin;
  return `${request.protocol}://${request.host}`;
}

function header(headers: IncomingHttpHeaders, name: string): string | undefined {
  const value = headers[name];
  return typeof value === 'string' ? value : undefined;
}

function stateSubject(context: ReauthContext, method: string, name: string | undefined): StateSubject {
  const { keyId, tenant, integration, account } = context;
  return { keyId, tenant, integration, account, method, name };
}
