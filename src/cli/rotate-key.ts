import { parseArgs } from 'node:util';
import type { Config } from '../config/schema.ts';
import { createCredentialStore } from '../credentials/store.ts';
import { isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { VaultSession } from '../vault/session.ts';

export const ROTATE_USAGE =
  "  keygate vault rotate-key --tenant T --config FILE   rotate a tenant's Transit key and rewrap its records\n";

/** `keygate vault rotate-key --tenant T`: reads keep working throughout (old key versions still decrypt). */
export async function rotateKey(
  args: string[],
  load: (path: string | undefined) => Readonly<Config>,
  logger: Logger,
): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { tenant: { type: 'string' }, config: { type: 'string', short: 'c' } },
    strict: true,
  });
  if (!values.tenant) {
    process.stderr.write(`keygate: rotate-key needs --tenant\n${ROTATE_USAGE}`);
    return 2;
  }
  const config = load(values.config);
  const vault = new VaultSession(config.vault, logger);
  try {
    await vault.relogin();
    const { store } = createCredentialStore(vault, config, logger);
    const { keyVersion, rewrapped } = await store.rotateKey(values.tenant);
    process.stdout.write(`${JSON.stringify({ tenant: values.tenant, keyVersion, rewrapped })}\n`);
    return 0;
  } catch (err) {
    process.stderr.write(
      `keygate: rotate-key failed: ${isKeygateError(err) ? `${err.code}: ${err.message}` : 'Vault error'}\n`,
    );
    return 1;
  } finally {
    vault.close();
  }
}
