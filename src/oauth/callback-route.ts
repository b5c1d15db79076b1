import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { CredentialMetadataSchema } from '../admin/credentials/schemas.ts';
import { errorResponses } from '../http/schemas.ts';
import type { EventPublisher } from '../events/bus.ts';
import type { ConnectFlow } from './connect.ts';

// The query is read from the raw URL by the flow itself; the schema documents it without
// constraining it, so a malformed callback still gets the flow's own stable error.
const CALLBACK_SCHEMA = {
  tags: ['oauth'],
  summary: 'Where the provider sends the browser back after consent',
  querystring: {
    type: 'object',
    properties: {
      code: { description: 'The authorization code.' },
      state: { description: 'The single-use state from POST .../connect/{integration}.' },
      error: { description: 'Set by the provider when consent was not given.' },
      iss: { description: 'The issuer (RFC 9207), when the provider sends it.' },
    },
  },
  response: {
    200: Type.Composite([Type.Object({ connected: Type.Boolean() }), CredentialMetadataSchema]),
    ...errorResponses(
      'oauth_state_invalid',
      'oauth_denied',
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
 */
export async function oauthCallbackRoute(
  app: FastifyInstance,
  { connect, events }: { connect: ConnectFlow; events: EventPublisher },
): Promise<void> {
  app.get('/oauth/callback', { schema: CALLBACK_SCHEMA }, async (request, reply) => {
    const query = request.raw.url?.split('?', 2)[1] ?? '';
    const metadata = await connect.complete(new URLSearchParams(query));
    const { tenant, integration, account, authType, status, expiresAt, scopes } = metadata;
    events.publish('credential-stored', {
      tenant,
      integration,
      account,
      authType,
      status,
      expiresAt,
      source: 'connect',
    });
    events.publish('connected', { tenant, integration, account, expiresAt, scopes });
    return reply.header('cache-control', 'no-store').send({ connected: true, ...metadata });
  });
}
