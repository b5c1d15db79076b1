import type { FastifyInstance } from 'fastify';
import type { ConnectFlow } from './connect.ts';

/**
 * GET /oauth/callback: where the provider sends the tenant's browser back. Not behind
 * the admin token: the single-use state, bound to a PKCE verifier, is what authorises it.
 */
export async function oauthCallbackRoute(
  app: FastifyInstance,
  { connect }: { connect: ConnectFlow },
): Promise<void> {
  app.get('/oauth/callback', async (request, reply) => {
    const query = request.raw.url?.split('?', 2)[1] ?? '';
    const metadata = await connect.complete(new URLSearchParams(query));
    return reply.header('cache-control', 'no-store').send({ connected: true, ...metadata });
  });
}
