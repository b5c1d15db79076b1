import type { Command } from 'commander';
import { commaList, contextOf, checkNames } from '../context.ts';
import { KEY_ID_PATTERN } from '../../keys/key-format.ts';
import { CliError, table } from '../output.ts';

interface KeyInfo extends Record<string, unknown> {
  id: string;
  name?: string;
  tenants: string[];
  integrations?: string[];
  createdAt?: string;
}

/** `keygate keys create|list|revoke`: the Keygate keys agents call the proxy with. */
export function keysCommand(program: Command): void {
  const keys = program
    .command('keys')
    .description('create, list and revoke Keygate keys (what agents call the proxy with)');

  keys
    .command('create')
    .description('create a key; it is printed once, on standard output, and never shown again')
    .option('-t, --tenant <tenant>', 'a tenant the key may act for (repeat, or a,b)', commaList)
    .option('--all-tenants', 'the key may act for every tenant')
    .option(
      '-i, --integration <integration>',
      'limit the key to these integrations (repeat, or a,b)',
      commaList,
    )
    .option('-n, --name <name>', 'a label to recognise the key by')
    .action(
      async (
        options: { tenant?: string[]; allTenants?: boolean; integration?: string[]; name?: string },
        command: Command,
      ) => {
        const { client, out } = contextOf(command);
        if (!options.tenant?.length && !options.allTenants) {
          throw new CliError('say which tenants the key is for: --tenant T (repeatable) or --all-tenants', 2);
        }
        if (options.tenant?.length && options.allTenants) {
          throw new CliError('choose --tenant or --all-tenants, not both', 2);
        }
        for (const tenant of options.tenant ?? []) checkNames({ tenant });
        for (const integration of options.integration ?? []) checkNames({ integration });
        const body: Record<string, unknown> = { tenants: options.allTenants ? ['*'] : options.tenant };
        if (options.integration?.length) body['integrations'] = options.integration;
        if (options.name) body['name'] = options.name;
        const created = await client.call<{ id: string; key: string }>('POST', '/v1/keys', body);
        out.result(created, () => created.key);
        out.note(
          `key ${created.id} for ${options.allTenants ? 'every tenant' : (options.tenant ?? []).join(', ')}: shown only now; give it to the agent as its API key (revoke: keygate keys revoke ${created.id})`,
        );
      },
    );

  keys
    .command('list')
    .description('list the keys: ids, names and scopes (never a secret)')
    .action(async (_options: unknown, command: Command) => {
      const { client, out } = contextOf(command);
      const answer = await client.call<{ keys: KeyInfo[] }>('GET', '/v1/keys');
      out.result(answer, () => table(answer.keys, ['id', 'name', 'tenants', 'integrations', 'createdAt']));
    });

  keys
    .command('revoke')
    .description(
      'revoke a key: calls with it fail from then on (other replicas within proxy.keyCacheTtlSeconds)',
    )
    .argument('<id>', 'the key id (the part of kg_<id>.<secret> before the dot)')
    .action(async (id: string, _options: unknown, command: Command) => {
      const { client, out } = contextOf(command);
      if (id.includes('.')) {
        throw new CliError('give the key id only, not the whole key (its secret would show in `ps`)', 2);
      }
      const keyId = id.startsWith('kg_') ? id.slice(3) : id;
      if (!new RegExp(KEY_ID_PATTERN).test(keyId)) {
        throw new CliError(
          `"${keyId}" is not a key id: one is 16 to 64 lowercase letters and digits (see \`keygate keys list\`)`,
          2,
        );
      }
      const answer = await client.call('DELETE', `/v1/keys/${encodeURIComponent(keyId)}`);
      out.result(answer, () => `revoked key ${keyId}`);
    });
}
