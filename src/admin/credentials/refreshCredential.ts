import type { FastifyInstance } from 'fastify';
import type { Config } from '../../config/schema.ts';
import { assertRef } from '../../credentials/names.ts';
import type { Credential, CredentialMetadata } from '../../credentials/types.ts';
import { KeygateError } from '../../errors.ts';
import type { Refresher } from '../../refresh/refresher.ts';
import { credentialRoutes, refOf, type CredentialRouteParams } from './schemas.ts';
import { CredentialMetadataSchema } from '../../http/credential-schema.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';

export interface RefreshRouteDeps {
  config: Readonly<Config>;
  refresher: Pick<Refresher, 'refresh'>;
}

/**
 * POST /v1/tenants/{tenant}/credentials/{integration}[/accounts/{account}]/refresh: refresh
 * now, under the same single-flight and Vault lease as every other refresh. Answers metadata only.
 */
export function refreshCredential(app: FastifyInstance, { config, refresher }: RefreshRouteDeps): void {
  for (const { url, params } of credentialRoutes('/refresh')) {
    app.post<{ Params: CredentialRouteParams }>(
      url,
      {
        schema: {
          ...adminDoc('Refresh an OAuth credential now'),
          params,
          response: {
            200: CredentialMetadataSchema,
            ...adminErrors(
              'invalid_name',
              'unknown_integration',
              'credential_not_found',
              'credential_refresh_failed',
              'conflict',
              'credential_undecryptable',
              'token_endpoint_unavailable',
              'vault_error',
            ),
          },
        },
      },
      async (request) => {
        const ref = refOf(request.params);
        assertRef(ref);
        if (!config.integrations[ref.integration]) throw new KeygateError('unknown_integration');
        return metadataOf(await refresher.refresh(ref, { reason: 'forced' }));
      },
    );
  }
}

function metadataOf(credential: Credential): CredentialMetadata {
  const { secret: _secret, version: _version, ...metadata } = credential;
  return metadata;
}
