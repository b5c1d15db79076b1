import type { Command } from 'commander';
import type { AdminClient } from '../admin-client.ts';
import { credentialRef, refKey, type CredentialRef } from '../../credentials/ref.ts';
import { checkNames, commaList, contextOf, credentialRoute, fields, positiveInt } from '../context.ts';
import { CliError, table } from '../output.ts';
import { fleetCredentials } from '../fleet.ts';
import { readSecret } from '../secret-input.ts';

interface AccountOption {
  account?: string;
}
interface PutOptions extends AccountOption {
  type?: string;
  expiresIn?: number;
  scopes?: string[];
}

const COLUMNS = ['tenant', 'integration', 'account', 'authType', 'status', 'expiresAt', 'updatedAt'];
const ACCOUNT = [
  '-a, --account <account>',
  "the account, for a tenant with several (default: 'default')",
] as const;

/** `keygate credentials put|get|list|delete|refresh`: a tenant's stored credentials, metadata only. */
export function credentialsCommand(program: Command): void {
  const credentials = program
    .command('credentials')
    .description(
      "store, show, list, delete and refresh tenants' credentials (metadata only, never a secret)",
    );

  credentials
    .command('put')
    .description(
      'store a credential; the secret is read from standard input (piped) or a prompt with echo off, never from argv',
    )
    .argument('<tenant>')
    .argument('<integration>')
    .option(...ACCOUNT)
    .option('--type <type>', 'api_key or oauth2: what the secret is (default: asked of Keygate)')
    .option('--expires-in <seconds>', 'OAuth: seconds until the access token expires', positiveInt)
    .option('--scopes <scopes>', 'OAuth: the scopes the token carries (a,b)', commaList)
    .addHelpText(
      'after',
      `
Examples:
  printf %s "$ANTHROPIC_API_KEY" | keygate credentials put acme anthropic
  keygate credentials put acme anthropic            # prompts, input hidden
  echo '{"accessToken":"...","refreshToken":"...","expiresIn":3600}' | keygate credentials put acme github
A JSON object on standard input is sent as the body as it is (PUT .../credentials/...).`,
    )
    .action(async (tenant: string, integration: string, options: PutOptions, command: Command) => {
      const { client, out } = contextOf(command);
      checkNames({ tenant, integration, account: options.account });
      if (options.type !== undefined && options.type !== 'api_key' && options.type !== 'oauth2') {
        throw new CliError(`--type must be api_key or oauth2, not "${options.type}"`, 2);
      }
      const secret = await readSecret(`Secret for ${tenant}/${integration} (input hidden): `);
      const body = await bodyOf(client, integration, secret, options);
      const route = credentialRoute(credentialRef(tenant, integration, options.account));
      const stored = await client.call('PUT', route, body);
      out.result(stored, () => fields(stored));
    });

  oneCredential(credentials, 'get', "show a credential's metadata (status, expiry, scopes)", 'GET', '');
  credentials
    .command('list')
    .description("list a tenant's credentials, or, without a tenant, every tenant's (filters apply to both)")
    .argument('[tenant]')
    .option('--status <status>', 'only active, refresh_failed or needs_reauth')
    .option('-i, --integration <integration>', 'only this integration')
    .action(
      async (
        tenant: string | undefined,
        options: { status?: string; integration?: string },
        command: Command,
      ) => {
        const { client, out } = contextOf(command);
        checkNames({ tenant, integration: options.integration });
        let answer: { credentials: Record<string, unknown>[] };
        if (tenant) {
          answer = await client.call('GET', `/v1/tenants/${tenant}/credentials`);
          answer = {
            ...answer,
            credentials: answer.credentials.filter(
              (c) =>
                (!options.status || c['status'] === options.status) &&
                (!options.integration || c['integration'] === options.integration),
            ),
          };
        } else {
          const filters = { status: options.status, integration: options.integration };
          answer = { credentials: await fleetCredentials(client, filters) };
        }
        out.result(answer, () => table(answer.credentials, COLUMNS));
      },
    );

  oneCredential(
    credentials,
    'delete',
    'delete a credential (an OAuth one is revoked at the provider where it can be)',
    'DELETE',
    '',
    (answer, ref) => [`deleted ${refKey(ref)}`, fields(answer)].filter(Boolean).join('\n'),
  );
  oneCredential(
    credentials,
    'refresh',
    'refresh an OAuth credential now (once across replicas)',
    'POST',
    '/refresh',
  );
}

// get, delete and refresh: one admin call on one credential, its answer shown as fields.
function oneCredential(
  credentials: Command,
  name: string,
  description: string,
  method: string,
  suffix: string,
  render: (answer: Record<string, unknown>, credential: CredentialRef) => string = (answer) => fields(answer),
): void {
  credentials
    .command(name)
    .description(description)
    .argument('<tenant>')
    .argument('<integration>')
    .option(...ACCOUNT)
    .action(async (tenant: string, integration: string, options: AccountOption, command: Command) => {
      const { client, out } = contextOf(command);
      checkNames({ tenant, integration, account: options.account });
      const credential = credentialRef(tenant, integration, options.account);
      const answer = await client.call<Record<string, unknown>>(
        method,
        `${credentialRoute(credential)}${suffix}`,
      );
      out.result(answer, () => render(answer, credential));
    });
}

// A JSON object is the body as it is; a bare secret is an API key or an access token,
// whichever the integration takes.
async function bodyOf(
  client: AdminClient,
  integration: string,
  secret: string,
  options: PutOptions,
): Promise<Record<string, unknown>> {
  let body: Record<string, unknown>;
  if (secret.trimStart().startsWith('{')) {
    try {
      body = JSON.parse(secret) as Record<string, unknown>;
    } catch {
      throw new CliError('standard input starts with "{" but is not valid JSON', 2);
    }
    if (body === null || typeof body !== 'object' || Array.isArray(body)) {
      throw new CliError('the JSON on standard input must be an object', 2);
    }
  } else {
    const type = options.type ?? (await authTypeOf(client, integration));
    body = type === 'api_key' ? { apiKey: secret } : { accessToken: secret };
  }
  if (options.expiresIn !== undefined) body['expiresIn'] = options.expiresIn;
  if (options.scopes !== undefined) body['scopes'] = options.scopes;
  return body;
}

async function authTypeOf(client: AdminClient, integration: string): Promise<string> {
  const answer = await client.optional<{ integrations: { name: string; auth: { type: string } }[] }>(
    'GET',
    '/v1/integrations',
  );
  if (!answer)
    throw new CliError(
      'this Keygate cannot say what the integration takes: pass --type api_key or --type oauth2',
      2,
    );
  const found = answer.integrations.find((i) => i.name === integration);
  if (!found) {
    throw new CliError(
      `no integration "${integration}" is configured; known: ${answer.integrations.map((i) => i.name).join(', ') || 'none'}`,
      2,
    );
  }
  return found.auth.type === 'api_key' ? 'api_key' : 'oauth2';
}
