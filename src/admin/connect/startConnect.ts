import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import { CredentialParams } from '../credentials/schemas.ts';

const StartConnectBody = Type.Optional(
  Type.Object(
    {
      scopes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 256 })),
      // Checked by assertNames (invalid_name), like every name.
      account: Type.Optional(Type.String({ description: 'The account to connect; `default` when absent.' })),
    },
    { additionalProperties: false },
  ),
);

const StartedConnect = Type.Object({
  authorizationUrl: Type.String(),
  state: Type.String(),
  expiresAt: Type.String(),
});

/**
 * POST /v1/tenants/{tenant}/connect/{integration}: starts the authorization-code + PKCE
 * flow and answers 201 with the URL to send the tenant's user to.
 */
export function startConnect(app: FastifyInstance, { connect }: AdminDeps): void {
  app.post<{ Params: CredentialParams; Body: Static<typeof StartConnectBody> }>(
    '/tenants/:tenant/connect/:integration',
    {
      schema: {
        ...adminDoc(
          'Start the authorization-code + PKCE flow',
          'Answers the URL to send the tenant’s user to; the provider then calls GET /oauth/callback.',
        ),
        params: CredentialParams,
        body: StartConnectBody,
        response: {
          201: StartedConnect,
          ...adminErrors(
            'bad_request',
            'validation_failed',
            'invalid_name',
            'unknown_integration',
            'connect_unsupported',
            'vault_error',
          ),
        },
      },
    },
    async (request, reply) => {
      const started = await connect.start(request.params.tenant, request.params.integration, {
        scopes: request.body?.scopes,
        account: request.body?.account,
        fallbackCallbackUrl: `${request.protocol}://${request.host}/oauth/callback`,
      });
      return reply.code(201).send(started);
    },
  );
}
