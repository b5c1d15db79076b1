import type { Command } from 'commander';
import { NAME_PATTERN } from '../config/schema.ts';
import { DEFAULT_ACCOUNT, type CredentialRef } from '../credentials/ref.ts';
import { AdminClient } from './admin-client.ts';
import { CliError, Output } from './output.ts';

/** What every admin command gets: a client of the running Keygate and where to write. */
export interface CommandContext {
  client: AdminClient;
  out: Output;
}

/** The context of a command from its options and the program's (--url, --json) and the environment. */
export function contextOf(command: Command): CommandContext {
  const options = command.optsWithGlobals<{ url: string; json?: boolean }>();
  return {
    client: new AdminClient({ url: options.url, token: process.env['KEYGATE_ADMIN_TOKEN'] || undefined }),
    out: new Output(options.json === true),
  };
}

const NAME = new RegExp(NAME_PATTERN);

/** Checks tenant, integration and account names before any call (exit 2 on a bad one). */
export function checkNames(names: Record<string, string | undefined>): void {
  for (const [what, value] of Object.entries(names)) {
    if (value !== undefined && !NAME.test(value)) {
      throw new CliError(`bad ${what} name "${value}": it must match ${NAME_PATTERN}`, 2);
    }
  }
}

/**
 * The admin API path of one credential (a URL, not its Vault path): the default account
 * takes the route that predates accounts, as the server's credentialRoutes do.
 */
export function credentialRoute(ref: CredentialRef): string {
  const base = `/v1/tenants/${ref.tenant}/credentials/${ref.integration}`;
  return ref.account === DEFAULT_ACCOUNT ? base : `${base}/accounts/${ref.account}`;
}

/** A comma-separated list option (`--scopes a,b`); repeated options add up. */
export function commaList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

/** A positive whole number option (`--timeout 300`). */
export function positiveInt(value: string): number {
  if (!/^\d+$/.test(value) || Number(value) < 1) {
    throw new CliError(`"${value}" is not a positive whole number`, 2);
  }
  return Number(value);
}

/** Metadata as `key: value` lines, for the human reader. */
export function fields(record: Record<string, unknown>): string {
  return Object.entries(record)
    .map(
      ([k, v]) =>
        `${k}: ${Array.isArray(v) ? v.join(', ') || '-' : v === null || v === undefined ? '-' : typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
    )
    .join('\n');
}
