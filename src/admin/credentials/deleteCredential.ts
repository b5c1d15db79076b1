import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import { assertRef } from '../../credentials/names.ts';
import type { CredentialRef } from '../../credentials/ref.ts';
import { isKeygateError } from '../../errors.ts';
import type { RevocationResult } from '../../events/catalogue.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import { authFor } from '../../oauth/client.ts';
import { revokeAtProvider, type Revocation } from '../../oauth/revoke.ts';
import type { AdminDeps } from '../deps.ts';
import { credentialRoutes, refOf, type CredentialRouteParams } from './schemas.ts';

const DeletedSchema = Type.Object({
  deleted: Type.Literal(true),
  revoked: Type.Boolean({ description: 'Whether the provider accepted the revocation (RFC 7009).' }),
  reason: Type.Optional(
    Type.Union(
      [
        Type.Literal('not_oauth'),
        Type.Literal('no_revocation_url'),
        Type.Literal('no_token'),
        Type.Literal('undecryptable'),
        Type.Literal('provider_refused'),
        Type.Literal('provider_unavailable'),
      ],
      { description: 'Why it was not revoked.' },
    ),
  ),
});

/**
 * DELETE /v1/tenants/{tenant}/credentials/{integration}[/accounts/{account}]: revokes an
 * OAuth credential at the provider where the integration has a revocationUrl, then
 * destroys the record (every version) whatever the provider said. 200 with what happened.
 */
export function deleteCredential(app: FastifyInstance, deps: AdminDeps): void {
  const { store, schedule, events, logger } = deps;
  for (const { url, params } of credentialRoutes()) {
    app.delete<{ Params: CredentialRouteParams }>(
      url,
      {
        schema: {
          ...adminDoc(
            'Delete a credential with every version',
            'An OAuth credential is revoked at the provider first (RFC 7009) where the integration has a revocationUrl; the record is destroyed whatever the provider answers.',
          ),
          params,
          response: {
            200: DeletedSchema,
            ...adminErrors('invalid_name', 'credential_not_found', 'vault_error'),
          },
        },
      },
      async (request) => {
        const ref = refOf(request.params);
        assertRef(ref);
        const { tenant, integration, account } = ref;
        const revocation = await revoke(deps, ref);
        await store.delete(ref);
        schedule?.cancel(ref);
        events.publish('credential-deleted', {
          tenant,
          integration,
          account,
          revocation: eventResult(revocation),
        });
        if (!revocation.revoked && revocation.reason.startsWith('provider_')) {
          logger.warn('credential deleted but not revoked at the provider', {
            event: 'credential_revocation_failed',
            tenant,
            integration,
            account,
            reason: revocation.reason,
          });
        }
        return { deleted: true as const, ...revocation };
      },
    );
  }
}

// A credential Keygate cannot read any more is still deleted; a Vault outage stops the delete.
async function revoke({ store, config }: AdminDeps, ref: CredentialRef): Promise<Revocation> {
  let credential;
  try {
    credential = await store.read(ref);
  } catch (err) {
    if (isKeygateError(err, 'credential_undecryptable')) return { revoked: false, reason: 'undecryptable' };
    throw err;
  }
  const auth = config.integrations[ref.integration]?.auth;
  if (credential.authType === 'api_key') return { revoked: false, reason: 'not_oauth' };
  if (!auth || auth.type === 'api_key') return { revoked: false, reason: 'no_revocation_url' };
  return revokeAtProvider(authFor(auth, credential.secret), credential.secret, config.refresh.tokenTimeoutMs);
}

function eventResult(revocation: Revocation): RevocationResult {
  if (revocation.revoked) return 'revoked';
  switch (revocation.reason) {
    case 'not_oauth':
    case 'no_revocation_url':
      return 'unsupported';
    case 'no_token':
    case 'undecryptable':
      return 'not_attempted';
    default:
      return 'failed';
  }
}
