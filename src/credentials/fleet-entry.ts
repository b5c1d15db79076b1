import type { AuthType, CredentialListing, CredentialMetadata, CredentialStatus } from './types.ts';

/** One credential as the fleet inventory shows it: listing metadata plus refresh facts. */
export interface InventoryEntry extends Pick<
  CredentialMetadata,
  'tenant' | 'integration' | 'account' | 'authType' | 'status' | 'expiresAt'
> {
  /** When the record was last written (the record in Vault, or this replica's event). */
  updatedAt: string | null;
  /** When its token was last obtained (connect, a refresh), when known. */
  lastRefreshedAt: string | null;
  /** The stable code of the last refresh failure Vault holds for it, until a refresh or write succeeds. */
  lastRefreshError: string | null;
  /** When this replica's scheduler renews it; null when it is not renewed (API key, needs_reauth). */
  nextRefreshAt: string | null;
  /** The last refresh this replica saw (since it started), or null. */
  lastRefresh: { result: 'success' | 'failed'; at: string; error?: string } | null;
}

/** An entry as a query answers it: with its next refresh and whether it is expiring soon. */
export interface InventoryView extends InventoryEntry {
  expiringSoon: boolean;
}

export type InventoryStatus = CredentialStatus | 'expiring_soon';

/** An active credential expiring within this long without a renewal is `expiring_soon`. */
export const EXPIRING_SOON_MS = 3600_000;

export const OAUTH = new Set<AuthType>(['oauth2', 'oauth2_client_credentials']);

/** An entry from a Vault listing; what this replica saw of its refreshes is kept. */
export function fromListing(
  listing: CredentialListing,
  previous: InventoryEntry | undefined,
): InventoryEntry {
  return {
    tenant: listing.tenant,
    integration: listing.integration,
    account: listing.account,
    authType: listing.authType,
    status: listing.status,
    expiresAt: listing.expiresAt,
    updatedAt: listing.updatedAt ?? null,
    lastRefreshedAt: listing.lastRefreshedAt ?? null,
    lastRefreshError: listing.status === 'active' ? null : (listing.lastRefreshError ?? null),
    nextRefreshAt: null,
    lastRefresh: previous?.lastRefresh ?? null,
  };
}

/**
 * `expiring_soon` for an active credential that expires within the hour and that Keygate
 * will not renew before then: one that is not refreshed (an API key with an expiry), or an
 * OAuth one already inside its refresh window without a renewal (the refresh is late).
 */
export function statusOf(entry: InventoryEntry, now: number, refreshBufferMs: number): InventoryStatus {
  if (entry.status !== 'active' || !entry.expiresAt) return entry.status;
  const left = Date.parse(entry.expiresAt) - now;
  const soon =
    left < (OAUTH.has(entry.authType) ? Math.min(refreshBufferMs, EXPIRING_SOON_MS) : EXPIRING_SOON_MS);
  return soon ? 'expiring_soon' : 'active';
}
