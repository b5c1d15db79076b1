import type { FastifyInstance } from 'fastify';
import type { IntegrationConfig } from '../../config/schema.ts';
import { KeygateError } from '../../errors.ts';
import { assertRef } from '../../credentials/names.ts';
import type { CredentialWrite } from '../../credentials/types.ts';
import { publishCredentialStored } from '../../events/credential-stored.ts';
import { injectionProblem } from '../../proxy/injectable.ts';
import type { AdminDeps } from '../deps.ts';
import { firstClientCredentialsToken, wantsClientCredentialsFetch } from './clientCredentials.ts';
import { CredentialMetadataSchema } from '../../http/credential-schema.ts';
import { invalidFields } from '../../http/invalid-fields.ts';
import { adminDoc, adminErrors } from '../../http/schemas.ts';
import { PutCredentialBody, credentialRoutes, refOf, type CredentialRouteParams } from './schemas.ts';

const OAUTH_ONLY = ['accessToken', 'refreshToken', 'expiresIn', 'expiresAt', 'scopes', 'tokenType'] as const;

/**
 * PUT /v1/tenants/{tenant}/credentials/{integration}[/accounts/{account}]: store tokens or
 * an API key; answers metadata only.
 */
export function putCredential(app: FastifyInstance, { store, config, schedule, events }: AdminDeps): void {
  for (const { url, params } of credentialRoutes()) {
    app.put<{ Params: CredentialRouteParams; Body: PutCredentialBody }>(
      url,
      {
        schema: {
          ...adminDoc(
            'Store or replace a credential (the account `default`, or the one named)',
            'Tokens for oauth2, {"apiKey"} for api_key; for oauth2_client_credentials {} or {"clientId","clientSecret"} and Keygate fetches the first token. Answers metadata only.',
          ),
          params,
          body: PutCredentialBody,
          response: {
            200: CredentialMetadataSchema,
            ...adminErrors(
              'bad_request',
              'validation_failed',
              'invalid_name',
              'unknown_integration',
              'conflict',
              'payload_too_large',
              'vault_error',
              'credential_refresh_failed',
              'token_endpoint_unavailable',
            ),
          },
        },
      },
      async (request) => {
        const ref = refOf(request.params);
        assertRef(ref);
        const configured = config.integrations[ref.integration];
        if (!configured) throw new KeygateError('unknown_integration');
        const write = wantsClientCredentialsFetch(configured, request.body)
          ? await firstClientCredentialsToken(configured, request.body, config.refresh)
          : toWrite(configured, request.body);
        const stored = await store.put(ref, write);
        const { secret: _secret, version: _version, ...metadata } = stored;
        schedule?.track(metadata);
        publishCredentialStored(events, metadata, 'admin');
        return metadata;
      },
    );
  }
}

function toWrite(integration: IntegrationConfig, body: PutCredentialBody): CredentialWrite {
  const problems: string[] = [];
  if (integration.auth.type === 'api_key') {
    for (const field of OAUTH_ONLY) {
      if (body[field] !== undefined) problems.push(`body.${field}: not allowed for an api_key integration`);
    }
    if (body.apiKey === undefined) problems.push('body.apiKey: required for an api_key integration');
    else checkInjectable(integration, 'apiKey', body.apiKey, problems);
    fail(problems);
    return { authType: 'api_key', secret: { apiKey: body.apiKey as string }, expiresAt: null };
  }
  if (body.apiKey !== undefined)
    problems.push(`body.apiKey: not allowed for an ${integration.auth.type} integration`);
  if (body.accessToken === undefined) problems.push('body.accessToken: required for an OAuth integration');
  else checkInjectable(integration, 'accessToken', body.accessToken, problems);
  if (body.expiresIn !== undefined && body.expiresAt !== undefined) {
    problems.push('body.expiresAt: cannot be given with expiresIn (give one of them)');
  }
  // The schema's date-time format admits a leap second (23:59:60), which Date cannot hold.
  if (body.expiresAt !== undefined && !Number.isFinite(Date.parse(body.expiresAt))) {
    problems.push('body.expiresAt: not a representable date-time (a leap second?)');
  }
  fail(problems);
  const expiresAt =
    body.expiresAt !== undefined
      ? new Date(body.expiresAt).toISOString()
      : body.expiresIn !== undefined
        ? new Date(Date.now() + body.expiresIn * 1000).toISOString()
        : null;
  return {
    authType: integration.auth.type,
    secret: {
      accessToken: body.accessToken as string,
      ...(body.refreshToken === undefined ? {} : { refreshToken: body.refreshToken }),
      ...(body.tokenType === undefined ? {} : { tokenType: body.tokenType }),
    },
    expiresAt,
    scopes: body.scopes ?? integration.auth.scopes ?? [],
  };
}

function checkInjectable(
  integration: IntegrationConfig,
  field: string,
  token: string,
  problems: string[],
): void {
  const problem = injectionProblem(integration, token);
  if (problem) problems.push(`body.${field}: ${problem}`);
}

function fail(problems: string[]): void {
  if (problems.length === 0) return;
  throw invalidFields(problems);
}
