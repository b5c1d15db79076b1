import { Type, type Static } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type { AdminDeps } from '../deps.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import { credentialRef } from '../../credentials/ref.ts';
import { CredentialParams } from '../credentials/schemas.ts';

// Every field is optional and so is the body itself: no body, no content type, or `{}`.
const StartConnectBody = Type.Object(
  {
    scopes: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 256 }), { maxItems: 256 })),
    // Checked by assertNames (invalid_name), like every name.
    account: Type.Optional(Type.String({ description: 'The account to connect; `default` when absent.' })),
    returnTo: Type.Optional(
      Type.String({
        maxLength: 2048,
        description:
          'Where the callback sends the browser (303) with connected=<integration>&account=<account> or error=<code>; must be under one of oauth.allowedReturnUrls.',
      }),
    ),
  },
  { additionalProperties: false },
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
      // A request without a body has none to validate: it means "all defaults", like `{}`.
      preValidation: (request, _reply, done) => {
        request.body ??= {};
        done();
      },
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
            'return_url_not_allowed',
            'vault_error',
          ),
        },
      },
    },
    async (request, reply) => {
      const body = request.body ?? {};
      const { tenant, integration } = request.params;
      const started = await connect.start(credentialRef(tenant, integration, body.account), {
        scopes: body.scopes,
        returnTo: body.returnTo,
        fallbackCallbackUrl: `${request.protocol}://${request.host}/oauth/callback`,
      });
      return reply.code(201).send(started);
    },
  );
}
