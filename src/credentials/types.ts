/** What the credential store holds, and what it tells about it. */
import type { CredentialRef } from './ref.ts';

export type AuthType = 'oauth2' | 'oauth2_client_credentials' | 'api_key';
export type CredentialStatus = 'active' | 'refresh_failed' | 'needs_reauth';

/** The secret part; only ever held decrypted in memory, never logged or returned. */
export interface CredentialSecret {
  accessToken?: string;
  refreshToken?: string;
  apiKey?: string;
  tokenType?: string;
  /** The tenant's own OAuth client (client credentials), used instead of the integration's. */
  clientId?: string;
  clientSecret?: string;
}

/** Everything about a credential that is not secret, its CredentialRef first; the admin API answers with this. */
export interface CredentialMetadata extends CredentialRef {
  authType: AuthType;
  status: CredentialStatus;
  /** ISO 8601, or null for credentials that do not expire (API keys). */
  expiresAt: string | null;
  scopes: string[];
  createdAt: string;
  updatedAt: string;
  lastRefreshedAt: string | null;
}

export interface Credential extends CredentialMetadata {
  secret: CredentialSecret;
  /** KV v2 version of the record; pass it back as `cas` to write only if nothing changed since. */
  version: number;
}

/** A stored credential as listed for the scheduler: the record's non-secret fields, no decryption. */
export interface CredentialListing extends CredentialRef {
  authType: AuthType;
  status: CredentialStatus;
  expiresAt: string | null;
  /** When the current token was obtained (connect, a refresh); null or absent when unknown. */
  lastRefreshedAt?: string | null;
  /** When the record was last written; null or absent when unknown. */
  updatedAt?: string | null;
  /** The stable code of the last refresh failure, until a refresh or a write succeeds. */
  lastRefreshError?: string | null;
  version: number;
}

export interface CredentialWrite {
  authType: AuthType;
  secret: CredentialSecret;
  expiresAt?: string | null;
  scopes?: string[];
  status?: CredentialStatus;
  lastRefreshedAt?: string | null;
}

export interface WriteOptions {
  /**
   * Check-and-set: 0 writes only if no record exists; N writes only if the current
   * version is N. A lost race is a `conflict` error. Omitted: write whatever is there.
   */
  cas?: number;
  /**
   * The record's creation time when the caller knows it (a refresh does): the write then
   * reads nothing first, and leaves custom_metadata as it was (listings read the record).
   */
  createdAt?: string;
}
