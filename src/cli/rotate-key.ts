import type { Config } from '../config/schema.ts';
import { createCredentialStore } from '../credentials/store.ts';
import { isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { VaultSession } from '../vault/session.ts';

/** `keygate vault rotate-key --tenant T`: reads keep working throughout (old key versions still decrypt). */
export async function rotateKey(tenant: string, config: Readonly<Config>, logger: Logger): Promise<number> {
  const vault = new VaultSession(config.vault, logger);
  try {
    await vault.relogin();
    const { store } = createCredentialStore(vault, config, logger);
    const { keyVersion, rewrapped } = await store.rotateKey(tenant);
    process.stdout.write(`${JSON.stringify({ tenant, keyVersion, rewrapped })}\n`);
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
