import pLimit from 'p-limit';
import type { Config } from '../config/schema.ts';
import { KeygateError, isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { KvStore } from '../vault/kv.ts';
import type { VaultSession } from '../vault/session.ts';
import { TransitKeys } from '../vault/transit.ts';
import { absentAndOutage } from '../cache/options.ts';
import { credentialPath as path, transitContext } from './accounts.ts';
import { CredentialCache } from './cache.ts';
import { listAllListings, listRefs, listTenants, readListing } from './listing.ts';
import { assertNames, assertRef } from './names.ts';
import { fromRecord, toCustomMetadata, toMetadata, toRecord, type StoredRecord } from './record.ts';
import { refKey as key, type CredentialRef } from './ref.ts';
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

/**
 * The per-tenant encrypted credential store: secrets are encrypted with the tenant's
 * Transit key (integration as context) and kept in KV v2 next to non-secret metadata,
 * which listings read without decrypting (also mirrored into custom_metadata when stored,
 * not on refreshes). A credential is named by its CredentialRef (ref.ts); the store keeps
 * no ref it is given (the proxy passes its request state), only the three names copied.
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
  async get(ref: CredentialRef): Promise<Credential> {
    assertRef(ref);
    const { credential, stale } = await this.#cache.get(
      key(ref),
      () => this.#readDecrypted(ref),
      (err) => isKeygateError(err, 'vault_unavailable'),
    );
    if (stale) {
      this.#logger.warn('serving a cached credential while Vault is unavailable', {
        event: 'credential_stale_served',
        tenant: credential.tenant,
        integration: credential.integration,
        account: credential.account,
      });
    }
    return credential;
  }

  /**
   * The credential when the cache holds it fresh, without a promise (the proxy's cache-hit
   * path, with names already checked); undefined when get() must be asked.
   */
  cached(ref: CredentialRef): Credential | undefined {
    return this.#cache.fresh(key(ref));
  }

  /** The credential straight from Vault (no cache), e.g. to take its version for check-and-set. */
  async read(ref: CredentialRef): Promise<Credential> {
    assertRef(ref);
    return this.#readDecrypted(ref);
  }

  /** Metadata only; needs no decryption. */
  async metadata(ref: CredentialRef): Promise<CredentialMetadata> {
    assertRef(ref);
    const record = await this.#kv.read<StoredRecord>(path(ref));
    if (!record) throw new KeygateError('credential_not_found');
    return toMetadata(ref, record.data);
  }

  async has(ref: CredentialRef): Promise<boolean> {
    assertRef(ref);
    return (await this.#kv.readMetadata(path(ref))) !== undefined;
  }

  /** Encrypts and writes a credential; `cas` makes it conditional (a lost race is `conflict`). */
  async put(ref: CredentialRef, write: CredentialWrite, options: WriteOptions = {}): Promise<Credential> {
    assertRef(ref);
    const ciphertext = await this.#transit.encrypt(
      ref.tenant,
      transitContext(ref),
      JSON.stringify(write.secret),
    );
    const now = new Date().toISOString();
    const at = path(ref);
    const known = options.createdAt;
    const previous = options.cas === 0 || known ? undefined : await this.#kv.read<StoredRecord>(at);
    const record = toRecord(write, ciphertext, now, known ?? previous?.data.createdAt ?? now);
    const { version } = await this.#kv.write(
      at,
      { ...record },
      options.cas === undefined ? {} : { cas: options.cas },
    );
    const credential: Credential = { ...toMetadata(ref, record), secret: { ...write.secret }, version };
    this.#cache.set(key(ref), credential);
    // A refresh (createdAt known) skips it: one Vault write less per refresh; listings read
    // the record itself, and custom_metadata keeps what was stored (auth type, status).
    if (!known) await this.#writeCustomMetadata(ref, record);
    return credential;
  }

  /** Changes the status only (the ciphertext is kept); conditional on `cas` when given. */
  async setStatus(
    ref: CredentialRef,
    status: CredentialStatus,
    options: WriteOptions & {
      /** The refresh failure's stable code, for the inventory. */ error?: string;
    } = {},
  ): Promise<void> {
    assertRef(ref);
    const at = path(ref);
    const current = await this.#kv.read<StoredRecord>(at);
    if (!current) throw new KeygateError('credential_not_found');
    const record: StoredRecord = {
      ...current.data,
      status,
      updatedAt: new Date().toISOString(),
      lastRefreshError: options.error ?? null,
    };
    await this.#kv.write(at, { ...record }, { cas: options.cas ?? current.version });
    this.#cache.delete(key(ref));
    await this.#writeCustomMetadata(ref, record);
  }

  /** Removes every version and the metadata; nothing can be restored. */
  async delete(ref: CredentialRef): Promise<void> {
    assertRef(ref);
    if (!(await this.has(ref))) throw new KeygateError('credential_not_found');
    // Only this record: the default account's path is also the folder of the other accounts,
    // and destroying a record's metadata leaves the records below it alone.
    await this.#kv.destroy(path(ref));
    this.#cache.delete(key(ref));
  }

  /** The tenant's credentials (every account), metadata only. */
  async list(tenant: string): Promise<CredentialMetadata[]> {
    assertNames(tenant);
    const refs = await listRefs(this.#kv, tenant);
    const limit = pLimit(8);
    const found = await Promise.all(
      refs.map((ref) => limit(() => this.metadata(ref).catch(notFoundAsUndefined))),
    );
    return found.filter((m): m is CredentialMetadata => m !== undefined);
  }

  /** Every stored credential with expiry and status, from the records (no decryption). */
  listAll(): Promise<CredentialListing[]> {
    return listAllListings(this.#kv);
  }

  /** One credential as listed (the record's non-secret fields, no decryption); undefined when there is none. */
  listing(ref: CredentialRef): Promise<CredentialListing | undefined> {
    assertRef(ref);
    return readListing(this.#kv, ref);
  }

  /** Every tenant that holds at least one credential, by name; no record is read. */
  tenants(): Promise<string[]> {
    return listTenants(this.#kv);
  }

  /** Puts a credential into the cache without writing it (a refreshed token not yet persisted). */
  prime(credential: Credential): void {
    this.#cache.set(key(credential), credential);
  }

  invalidate(ref: CredentialRef): void {
    this.#cache.delete(key(ref));
  }

  /** Forgets every cached credential (this replica fell behind the fleet's changes). */
  clearCache(): void {
    this.#cache.clear();
  }

  /** Rotates the tenant's Transit key and rewraps every record under the new version. */
  async rotateKey(tenant: string): Promise<{ keyVersion: number; rewrapped: number }> {
    assertNames(tenant);
    const keyVersion = await this.#transit.rotate(tenant);
    let rewrapped = 0;
    for (const ref of await listRefs(this.#kv, tenant)) {
      if (await this.#rewrap(ref)) rewrapped += 1;
    }
    return { keyVersion, rewrapped };
  }

  // A concurrent write between read and write is a conflict: read again and rewrap that.
  async #rewrap(ref: CredentialRef): Promise<boolean> {
    const at = path(ref);
    for (let attempt = 0; attempt < 5; attempt += 1) {
      const current = await this.#kv.read<StoredRecord>(at);
      if (!current) return false;
      const record = current.data;
      const ciphertext = await this.#transit.rewrap(ref.tenant, transitContext(ref), record.ciphertext);
      if (ciphertext === record.ciphertext) return false;
      try {
        await this.#kv.write(at, { ...record, ciphertext }, { cas: current.version });
        this.#cache.delete(key(ref));
        return true;
      } catch (err) {
        if (!isKeygateError(err, 'conflict')) throw err;
      }
    }
    throw new KeygateError('conflict');
  }

  async #readDecrypted(ref: CredentialRef): Promise<Credential> {
    const record = await this.#kv.read<StoredRecord>(path(ref));
    if (!record) throw new KeygateError('credential_not_found');
    const stored = record.data;
    const plaintext = await this.#transit.decrypt(ref.tenant, transitContext(ref), stored.ciphertext);
    let secret: CredentialSecret;
    try {
      secret = JSON.parse(plaintext) as CredentialSecret;
    } catch {
      throw new KeygateError('credential_undecryptable');
    }
    return fromRecord(ref, stored, secret, record.version);
  }

  async #writeCustomMetadata(ref: CredentialRef, record: StoredRecord): Promise<void> {
    try {
      await this.#kv.writeMetadata(path(ref), toCustomMetadata(record));
    } catch (err) {
      // The record itself is written; only the listing hint lags. Log and go on.
      this.#logger.warn('could not write credential custom_metadata', {
        event: 'credential_metadata_write_failed',
        tenant: ref.tenant,
        integration: ref.integration,
        account: ref.account,
        errorCode: isKeygateError(err) ? err.code : 'unknown',
      });
    }
  }
}

function notFoundAsUndefined(err: unknown): undefined {
  if (isKeygateError(err, 'credential_not_found')) return undefined;
  throw err;
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
