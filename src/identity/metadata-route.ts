import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { NAME_PATTERN, type Config } from '../config/schema.ts';
import { KeygateError } from '../errors.ts';
import { errorResponses } from '../http/schemas.ts';
import type { Callers } from './authenticator.ts';
import { scopeFor } from './resources.ts';

const Name = Type.String({ pattern: NAME_PATTERN });

const ProtectedResourceMetadata = Type.Object(
  {
    resource: Type.String({
      description: 'The proxied base URL: <public URL>/proxy/{tenant}/{integration}.',
    }),
    authorization_servers: Type.Optional(Type.Array(Type.String())),
    scopes_supported: Type.Array(Type.String()),
    bearer_methods_supported: Type.Array(Type.String()),
    resource_name: Type.String(),
  },
  { description: 'RFC 9728 protected-resource metadata.' },
);

/**
 * `GET /.well-known/oauth-protected-resource/proxy/{tenant}/{integration}` (RFC 9728
 * §3.1: the well-known path inserted before the resource's path): what an OAuth client
 * (an MCP client, told of this URL by a 401's `resource_metadata`) needs to get a token
 * for one proxied base URL. Served only where `callers.issuers` is set, for configured
 * integrations; the `resource` is exactly the one a token's audience may name.
 */
export async function protectedResourceRoutes(
  app: FastifyInstance,
  { config, callers }: { config: Readonly<Config>; callers: Callers },
): Promise<void> {
  app.get<{ Params: { tenant: string; integration: string } }>(
    '/.well-known/oauth-protected-resource/proxy/:tenant/:integration',
    {
      schema: {
        tags: ['proxy'],
        summary: 'Protected-resource metadata (RFC 9728) of one proxied base URL, for OAuth and MCP clients',
        params: Type.Object({ tenant: Name, integration: Name }),
        response: {
          200: ProtectedResourceMetadata,
          ...errorResponses('validation_failed', 'not_found', 'unknown_integration'),
        },
      },
    },
    async (request, reply) => {
      const { tenant, integration } = request.params;
      if (!callers.acceptsTokens) throw new KeygateError('not_found');
      if (!config.integrations[integration]) throw new KeygateError('unknown_integration');
      // An issuer fixed to one tenant is no use to a client of another; workload issuers
      // (advertise: false) are no authorization server a client can sign in with.
      const servers = callers.issuers
        .filter(({ config: c }) => c.advertise && (!('value' in c.tenant) || c.tenant.value === tenant))
        .map(({ config: c }) => c.issuer);
      return reply.header('cache-control', 'max-age=300').send({
        resource: callers.resources.resourceOf(tenant, integration),
        ...(servers.length > 0 ? { authorization_servers: servers } : {}),
        scopes_supported: [scopeFor(integration)],
        bearer_methods_supported: ['header'],
        resource_name: `Keygate: ${integration} for ${tenant}`,
      });
    },
  );
}
