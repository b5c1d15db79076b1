import type { Config } from '../../src/config/schema.ts';
import { createCredentialStore, type CredentialStore } from '../../src/credentials/store.ts';
import type { VaultTarget } from '../../src/vault/dev-server.ts';
import type { KvStore } from '../../src/vault/kv.ts';
import { VaultSession } from '../../src/vault/session.ts';
import type { TransitKeys } from '../../src/vault/transit.ts';
import { memoryLogger, testConfig } from './keygate.ts';

export interface TestStore {
  store: CredentialStore;
  kv: KvStore;
  transit: TransitKeys;
  vault: VaultSession;
  config: Readonly<Config>;
  lines: string[];
  close(): void;
}

/** A credential store on a real Vault, without the HTTP server around it. */
export async function makeStore(target: VaultTarget, yaml = ''): Promise<TestStore> {
  const config = testConfig(yaml, { VAULT_ADDR: target.address, VAULT_TOKEN: target.token });
  const { logger, lines } = memoryLogger();
  const vault = new VaultSession(config.vault, logger);
  await vault.start();
  const { kv, transit, store } = createCredentialStore(vault, config, logger);
  return { store, kv, transit, vault, config, lines, close: () => vault.close() };
}

/** A tenant name no other test uses. */
export function uniqueTenant(label: string): string {
  return `${label}-${Math.random().toString(36).slice(2, 10)}`;
}
