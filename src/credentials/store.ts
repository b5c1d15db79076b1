import pLimit from 'p-limit';
import type { Config } from '../config/schema.ts';
import { KeygateError, isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { KvStore } from '../vault/kv.ts';
import type { VaultSession } from '../vault/session.ts';
import { TransitKeys } from '../vault/transit.ts';
import { absentAndOutage } from '../cache/options.ts';
import { CredentialCache } from './cache.ts';
import { assertNames } from './names.ts';
import { fromRecord, toCustomMetadata, toMetadata, toRecord, type StoredRecord } from './record.ts';
import type {
  Credential,
  CredentialListing,
  CredentialMetadata,
  CredentialSecret,
  CredentialStatus,
  CredentialWrite,
  WriteOptions,
} from './types.ts';

export interface CredentialStoreDeps {
  kv: KvStore;
  transit: TransitKeys;
  config: Readonly<Config>;
  logger: Logger;
}

const path = (tenant: string, integration: string) => `credentials/${tenant}/${integration}`;
const key = (tenant: string, integration: string) => `${tenant}/${integration}`;

/**
 * The per-tenant encrypted credential store: secrets are encrypted with the tenant's
 * Transit key (integration as context) and kept in KV v2 next to non-secret metadata,
 * which is mirrored into custom_metadata so listings need no decryption.
 */
export class CredentialStore {
  readonly #kv: KvStore;
  readonly #transit: TransitKeys;
  readonly #logger: Logger;
  readonly #cache: CredentialCache;

  constructor({ kv, transit, config, logger }: CredentialStoreDeps) {
    this.#kv = kv;
    this.#transit = transit;
    this.#logger = logger;
    this.#cache = new CredentialCache({
      ttlMs: config.cache.ttlSeconds * 1000,
      maxStaleMs: config.cache.maxStaleSeconds * 1000,
      maxEntries: config.cache.maxEntries,
      ...absentAndOutage(config.cache),
    });
  }

  /** The credential, from the cache when fresh; concurrent misses share one Vault round trip. */
  async get(tenant: string, integration: string): Promise<Credential> {
    assertNames(tenant, integration);
    const { credential, stale } = await this.#cache.get(
      key(tenant, integration),
      () => this.#readDecrypted(tenant, integration),
      (err) => isKeygateError(err, 'vault_unavailable'),
    );
    if (stale) {
      this.#logger.warn('serving a cached credential while Vault is unavailable', {
        event: 'credential_stale_served',
        tenant,
        integration,
      });
    }
    return credential;
  }

  /** The credential straight from Vault (no cache), e.g. to take its version for check-and-set. */
  async read(tenant: string, integration: string): Promise<Credential> {
    assertNames(tenant, integration);
    return this.#readDecrypted(tenant, integration);
  }

  /** Metadata only; needs no decryption. */
  async metadata(tenant: string, integration: string): Promise<CredentialMetadata> {
    assertNames(tenant, integration);
    const record = await this.#kv.read<StoredRecord>(path(tenant, integration));
    if (!record) throw new KeygateError('credential_not_found');
    return toMetadata(tenant, integration, record.data);
  }

  async has(tenant: string, integration: string): Promise<boolean> {
    assertNames(tenant, integration);
    return (await this.#kv.readMetadata(path(tenant, integration))) !== undefined;
  }

  /** Encrypts and writes a credential; `cas` makes it conditional (a lost race is `conflict`). */
  async put(
    tenant: string,
    integration: string,
    write: CredentialWrite,
    options: WriteOptions = {},
  ): Promise<Credential> {
    assertNames(tenant, integration);
    const ciphertext = await this.#transit.encrypt(tenant, integration, JSON.stringify(write.secret));
    const now = new Date().toISOString();
    const previous =
      options.cas === 0 ? undefined : await this.#kv.read<StoredRecord>(path(tenant, integration));
    const record = toRecord(write, ciphertext, now, previous?.data.createdAt ?? now);
    const { version } = await this.#kv.write(path(tenant, integration), { ...record }, options);
    const credential: Credential = {
      ...toMetadata(tenant, integration, record),
      secret: { ...write.secret },
      version,
    };
    this.#cache.set(key(tenant, integration), credential);
    await this.#writeCustomMetadata(tenant, integration, record);
    return credential;
  }

  /** Changes the status only (the ciphertext is kept); conditional on `cas` when given. */
  async setStatus(
    tenant: string,
    integration: string,
    status: CredentialStatus,
    options: WriteOptions = {},
  ): Promise<void> {
    assertNames(tenant, integration);
    const current = await this.#kv.read<StoredRecord>(path(tenant, integration));
    if (!current) throw new KeygateError('credential_not_found');
    const record = { ...current.data, status, updatedAt: new Date().toISOString() };
    await this.#kv.write(path(tenant, integration), { ...record }, { cas: options.cas ?? current.version });
    this.#cache.delete(key(tenant, integration));
    await this.#writeCustomMetadata(tenant, integration, record);
  }

  /** Removes every version and the metadata; nothing can be restored. */
  async delete(tenant: string, integration: string): Promise<void> {
    assertNames(tenant, integration);
    if (!(await this.has(tenant, integration))) throw new KeygateError('credential_not_found');
    await this.#kv.destroy(path(tenant, integration));
    this.#cache.delete(key(tenant, integration));
  }

  /** The tenant's credentials, metadata only. */
  async list(tenant: string): Promise<CredentialMetadata[]> {
    assertNames(tenant);
    const names = (await this.#kv.list(`credentials/${tenant}/`)).filter((n) => !n.endsWith('/'));
    const limit = pLimit(8);
    const found = await Promise.all(
      names.map((integration) => limit(() => this.metadata(tenant, integration).catch(notFoundAsUndefined))),
    );
    return found.filter((m): m is CredentialMetadata => m !== undefined);
  }

  /** Every stored credential with expiry and status, from custom_metadata (no decryption). */
  async listAll(): Promise<CredentialListing[]> {
    const tenants = (await this.#kv.list('credentials/'))
      .filter((n) => n.endsWith('/'))
      .map((n) => n.slice(0, -1));
    const limit = pLimit(16);
    const perTenant = await Promise.all(
      tenants.map(async (tenant) => {
        const integrations = (await this.#kv.list(`credentials/${tenant}/`)).filter((n) => !n.endsWith('/'));
        return Promise.all(
          integrations.map((integration) =>
            limit(async () => {
              const meta = await this.#kv.readMetadata(path(tenant, integration));
              return meta ? fromCustomMetadata(tenant, integration, meta) : undefined;
            }),
          ),
        );
      }),
    );
    return perTenant.flat().filter((l): l is CredentialListing => l !== undefined);
  }

  /** Puts a credential into the cache without writing it (a refreshed token not yet persisted). */
  prime(credential: Credential): void {
    this.#cache.set(key(credential.tenant, credential.integration), credential);
  }

  invalidate(tenant: string, integration: string): void {
    this.#cache.delete(key(tenant, integration));
  }

  /** Forgets every cached credential (this replica fell behind the fleet's changes). */
  clearCache(): void {
    this.#cache.clear();
  }

  /** Rotates the tenant's Transit key and rewraps every record under the new version. */
  async rotateKey(tenant: string): Promise<{ keyVersion: number; rewrapped: number }> {
    assertNames(tenant);
    const keyVersion = await this.#transit.rotate(tenant);
    const integrations = (await this.#kv.list(`credentials/${tenant}/`)).filter((n) => !n.endsWith('/'));
    let rewrapped = 0;
    for (const integration of integrations) {
      if (await this.#rewrap(tenant, integration)) rewrapped += 1;
    }
    return { keyVersion, rewrapped };
  }

  // A concurrent write between read and write is a conflict: read again and rewrap that.
  async #rewrap(tenant: string, integration: string): Promise<boolean> {
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = await this.#kv.read<StoredRecord>(path(tenant, integration));
      if (!current) return false;
      const record = current.data;
      const ciphertext = await this.#transit.rewrap(tenant, integration, record.ciphertext);
      if (ciphertext === record.ciphertext) return false;
      try {
        await this.#kv.write(path(tenant, integration), { ...record, ciphertext }, { cas: current.version });
        this.#cache.delete(key(tenant, integration));
        return true;
      } catch (err) {
        if (!isKeygateError(err, 'conflict')) throw err;
      }
    }
    throw new KeygateError('conflict');
  }

  async #readDecrypted(tenant: string, integration: string): Promise<Credential> {
    const record = await this.#kv.read<StoredRecord>(path(tenant, integration));
    if (!record) throw new KeygateError('credential_not_found');
    const stored = record.data;
    const plaintext = await this.#transit.decrypt(tenant, integration, stored.ciphertext);
    let secret: CredentialSecret;
    try {
      secret = JSON.parse(plaintext) as CredentialSecret;
    } catch {
      throw new KeygateError('credential_undecryptable');
    }
    return fromRecord(tenant, integration, stored, secret, record.version);
  }

  async #writeCustomMetadata(tenant: string, integration: string, record: StoredRecord): Promise<void> {
    try {
      await this.#kv.writeMetadata(path(tenant, integration), toCustomMetadata(record));
    } catch (err) {
      // The record itself is written; only the listing hint lags. Log and go on.
      this.#logger.warn('could not write credential custom_metadata', {
        event: 'credential_metadata_write_failed',
        tenant,
        integration,
        errorCode: isKeygateError(err) ? err.code : 'unknown',
      });
    }
  }
}

function notFoundAsUndefined(err: unknown): undefined {
  if (isKeygateError(err, 'credential_not_found')) return undefined;
  throw err;
}

function fromCustomMetadata(
  tenant: string,
  integration: string,
  meta: { version: number; customMetadata: Record<string, string> },
): CredentialListing {
  const c = meta.customMetadata;
  return {
    tenant,
    integration,
    authType: (c['authType'] ?? 'api_key') as CredentialListing['authType'],
    status: (c['status'] ?? 'active') as CredentialListing['status'],
    expiresAt: c['expiresAt'] ? c['expiresAt'] : null,
    version: meta.version,
  };
}

/** The store with its Vault parts (KV v2 and Transit) built on one Vault session. */
export function createCredentialStore(
  vault: VaultSession,
  config: Readonly<Config>,
  logger: Logger,
): { kv: KvStore; transit: TransitKeys; store: CredentialStore } {
  const kv = new KvStore({ vault, config });
  const transit = new TransitKeys({ vault, config });
  return { kv, transit, store: new CredentialStore({ kv, transit, config, logger }) };
}
