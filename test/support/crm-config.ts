import { parseConfig } from '../../src/config/load.ts';
import type { Config } from '../../src/config/schema.ts';

/**
 * A loaded configuration with one OAuth integration, `crm`, that reaches nothing (no Vault,
 * no provider): for unit tests and benches of the refresh machinery. `before` is YAML put
 * ahead of `integrations:` (a `refresh:` line, say).
 */
export function crmConfig(before = ''): Readonly<Config> {
  return parseConfig(
    `${before}integrations:
  crm:
    baseUrl: https://crm.example.com
    auth: { type: oauth2, tokenUrl: https://crm.example.com/token, clientId: c }`,
    { VAULT_TOKEN: 'root' },
  );
}
