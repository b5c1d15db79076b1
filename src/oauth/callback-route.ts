import type { FastifyInstance } from 'fastify';
import type { EventPublisher } from '../events/bus.ts';
import type { ConnectFlow } from './connect.ts';

/**
 * GET /oauth/callback: where the provider sends the tenant's browser back. Not behind
 * the admin token: the single-use state, bound to a PKCE verifier, is what authorises it.
 */
export async function oauthCallbackRoute(
  app: FastifyInstance,
  { connect, events }: { connect: ConnectFlow; events: EventPublisher },
): Promise<void> {
  app.get('/oauth/callback', async (request, reply) => {
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
