import type { CredentialRef } from './ref.ts';
import type { Credential, CredentialMetadata, CredentialSecret, CredentialWrite } from './types.ts';

/** The KV v2 record: ciphertext plus non-secret metadata. Never a plaintext secret. */
export interface StoredRecord extends Omit<CredentialMetadata, 'tenant' | 'integration' | 'account'> {
  ciphertext: string;
  /** The stable code of the last refresh failure, until a refresh or a write succeeds. */
  lastRefreshError?: string | null;
}

export function toRecord(
  write: CredentialWrite,
  ciphertext: string,
  now: string,
  createdAt: string,
): StoredRecord {
  return {
    ciphertext,
    authType: write.authType,
    status: write.status ?? 'active',
    expiresAt: write.expiresAt ?? null,
    scopes: write.scopes ?? [],
    createdAt,
    updatedAt: now,
    lastRefreshedAt: write.lastRefreshedAt ?? null,
  };
}

/** The credential's metadata; the ref's three names are copied (a ref may be a larger object). */
export function toMetadata(ref: CredentialRef, record: StoredRecord): CredentialMetadata {
  return {
    tenant: ref.tenant,
    integration: ref.integration,
    account: ref.account,
    authType: record.authType,
    status: record.status,
    expiresAt: record.expiresAt ?? null,
    scopes: record.scopes ?? [],
    createdAt: record.createdAt,
    updatedAt: record.updatedAt,
    lastRefreshedAt: record.lastRefreshedAt ?? null,
  };
}

export function fromRecord(
  ref: CredentialRef,
  record: StoredRecord,
  secret: CredentialSecret,
  version: number,
): Credential {
  return { ...toMetadata(ref, record), secret, version };
}

/**
 * What the scheduler needs to list credentials without decrypting them. Values are
 * strings and never empty (Vault refuses an empty custom_metadata value), so a
 * credential without expiry has no `expiresAt` key.
 */
export function toCustomMetadata(record: StoredRecord): Record<string, string> {
  return {
    authType: record.authType,
    status: record.status,
    ...(record.expiresAt ? { expiresAt: record.expiresAt } : {}),
    updatedAt: record.updatedAt,
    // For the inventory (GET /v1/credentials): when the last refresh happened, and how it failed.
    ...(record.lastRefreshedAt ? { lastRefreshedAt: record.lastRefreshedAt } : {}),
    ...(record.lastRefreshError ? { lastRefreshError: record.lastRefreshError } : {}),
  };
}
