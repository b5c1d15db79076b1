import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { Type } from '@sinclair/typebox';
import { CredentialMetadataSchema } from '../http/credential-schema.ts';
import { errorResponses } from '../http/schemas.ts';
import type { EventPublisher } from '../events/bus.ts';
import { publishCredentialStored } from '../events/credential-stored.ts';
import type { KeygateError } from '../errors.ts';
import { bindingCookie, flowCookieName, readCookie } from '../http/cookies.ts';
import { PAGE_HEADERS } from '../http/page.ts';
import {
  NOOP_SPAN,
  endServerSpan,
  startServerSpan,
  tracing,
  withSpan,
  type Span,
} from '../observability/tracing.ts';
import { connectFailedPage, connectedPage } from './callback-page.ts';
import type { CallbackOutcome, ConnectFlow, FlowRef } from './connect.ts';
import { withOutcome } from './return-to.ts';

// The query is read from the raw URL by the flow itself; the schema documents it without
// constraining it, so a malformed callback still gets the flow's own stable error.
const CALLBACK_SCHEMA = {
  tags: ['oauth'],
  summary: 'Where the provider sends the browser back after consent',
  description:
    'With the flow’s returnTo: 303 there with connected=<integration>&account=<account>, or error=<code>. Without: JSON for accept: application/json (and by default), a small HTML page for a browser (accept: text/html).',
  querystring: {
    type: 'object',
    properties: {
      code: { description: 'The authorization code.' },
      state: { description: 'The single-use state from POST .../connect/{integration}.' },
      error: { description: 'Set by the provider when consent was not given.' },
      iss: { description: 'The issuer (RFC 9207), checked when the provider sends it.' },
    },
  },
  response: {
    200: Type.Composite([Type.Object({ connected: Type.Boolean() }), CredentialMetadataSchema]),
    303: Type.Null({ description: 'To the flow’s returnTo, with the outcome in its query.' }),
    ...errorResponses(
      'oauth_state_invalid',
      'oauth_callback_malformed',
      'oauth_denied',
      'oauth_issuer_mismatch',
      'connect_unsupported',
      'token_endpoint_unavailable',
      'internal_error',
      'vault_error',
      'vault_unavailable',
    ),
  },
};

/**
 * GET /oauth/callback: where the provider sends the tenant's browser back. Not behind
 * the admin token: the single-use state, bound to a PKCE verifier, is what authorises it.
 * Publishes credential-stored + connected, or connect-failed when the flow is known.
 */
export async function oauthCallbackRoute(
  app: FastifyInstance,
  { connect, events }: { connect: ConnectFlow; events: EventPublisher },
): Promise<void> {
  const handle = async (request: FastifyRequest, reply: FastifyReply, span: Span) => {
    const [path = '/', query = ''] = request.raw.url?.split('?', 2) ?? [];
    const parameters = new URLSearchParams(query);
    // A flow started from a connect page is bound to that browser's cookie; it is spent now either way.
    const cookie = connectCookieName(parameters.get('state') ?? '');
    const browser = readCookie(request.headers.cookie, cookie);
    if (browser !== undefined)
      reply.header('set-cookie', bindingCookie(cookie, '', { path, maxAge: 0, secure: false }));
    const outcome = await connect.complete(parameters, browser);
    if (outcome.flow) {
      const { tenant, integration, account } = outcome.flow;
      span.setAttributes({
        'keygate.tenant': tenant,
        'keygate.integration': integration,
        'keygate.account': account,
      });
    }
    report(events, outcome);
    reply.header('cache-control', 'no-store');
    return outcome.ok
      ? succeeded(request, reply, outcome)
      : failed(request, reply, outcome.error, outcome.flow);
  };
  app.get('/oauth/callback', { schema: CALLBACK_SCHEMA }, (request, reply) =>
    tracing.enabled ? traced(request, reply, handle) : handle(request, reply, NOOP_SPAN),
  );
}

/**
 * The callback as a SERVER span continuing the browser's `traceparent` if any; its path only
 * (the query holds the code and the state), and whose credential it was once the state is known.
 */
async function traced(
  request: FastifyRequest,
  reply: FastifyReply,
  handle: (request: FastifyRequest, reply: FastifyReply, span: Span) => Promise<unknown>,
): Promise<unknown> {
  const span = startServerSpan({
    method: 'GET',
    path: '/oauth/callback',
    route: '/oauth/callback',
    headers: request.headers,
    scheme: request.protocol,
    clientAddress: request.ip,
  });
  // 'close' comes whether the answer was written or the browser went away.
  reply.raw.once('close', () => endServerSpan(span, reply.statusCode));
  return withSpan(span, () => handle(request, reply, span));
}

/** The cookie that binds a connect flow started from a connect page to its browser (`src/reauth/to-provider.ts`). */
export const connectCookieName = (state: string) => flowCookieName('keygate-connect', state);

function report(events: EventPublisher, outcome: CallbackOutcome): void {
  if (outcome.ok) {
    const { metadata } = outcome;
    publishCredentialStored(events, metadata, 'connect');
    const { tenant, integration, account, expiresAt, scopes } = metadata;
    events.publish('connected', { tenant, integration, account, expiresAt, scopes });
  } else if (outcome.flow) {
    const { tenant, integration, account } = outcome.flow;
    events.publish('connect-failed', { tenant, integration, account, error: outcome.error.code });
  }
}

function succeeded(
  request: FastifyRequest,
  reply: FastifyReply,
  { flow, metadata }: Extract<CallbackOutcome, { ok: true }>,
) {
  if (flow.returnTo) {
    return redirect(
      reply,
      withOutcome(flow.returnTo, { connected: flow.integration, account: flow.account }),
    );
  }
  if (wantsHtml(request)) return reply.code(200).headers(PAGE_HEADERS).send(connectedPage(flow));
  return reply.send({ connected: true, ...metadata });
}

function failed(
  request: FastifyRequest,
  reply: FastifyReply,
  error: KeygateError,
  flow: FlowRef | undefined,
) {
  if (flow?.returnTo) {
    const parameters = { error: error.code, integration: flow.integration, account: flow.account };
    return redirect(reply.header('x-keygate-error', error.code), withOutcome(flow.returnTo, parameters));
  }
  if (wantsHtml(request)) {
    return reply
      .code(error.statusCode)
      .headers({ ...PAGE_HEADERS, 'x-keygate-error': error.code })
      .send(connectFailedPage(error, flow));
  }
  throw error; // the JSON error envelope, like any other route
}

function redirect(reply: FastifyReply, location: string) {
  return reply.code(303).headers({ location, 'referrer-policy': 'no-referrer' }).send();
}

// A browser asks for text/html; fetch, curl and SDKs (`*/*`, application/json) get JSON.
function wantsHtml(request: FastifyRequest): boolean {
  const accept = request.headers.accept ?? '';
  return /\btext\/html\b/i.test(accept) && !/\bapplication\/json\b/i.test(accept);
}
