/** The refresh lifecycle, as emitted by the Refresher and the RefreshScheduler. Never a token. */

export const REFRESH_EVENTS = [
  'refresh-scheduled',
  'refresh-success',
  'refresh-retry',
  'refresh-failed',
  'refresh-cancelled',
] as const;

export type RefreshEventName = (typeof REFRESH_EVENTS)[number];

/** Why a refresh runs: the schedule, an upstream 401 seen by the proxy, or an operator. */
export type RefreshReason = 'scheduled' | 'unauthorized' | 'forced';

export interface RefreshEvent {
  tenant: string;
  integration: string;
  /** The tenant's account at the integration (`default` unless one was named). */
  account: string;
  /** ISO 8601, when the event happened. */
  time: string;
  /** 1 for the first token request of a refresh, 2 for its first retry, ... */
  attempt: number;
  reason?: RefreshReason;
  /** refresh-scheduled: when the refresh is due (ISO 8601). */
  dueAt?: string;
  /** refresh-success: the new access token's expiry (ISO 8601). */
  expiresAt?: string;
  /** refresh-retry: how long until the next attempt. */
  delayMs?: number;
  /** refresh-failed: true when only the tenant can fix it (needs_reauth). */
  permanent?: boolean;
  /** refresh-success / refresh-failed: whether the new token pair is in Vault. */
  persisted?: boolean;
  /** A stable failure code: an OAuth error (invalid_grant), `timeout`, `http_503`, a Keygate code. */
  error?: string;
}

export type RefreshListener = (event: RefreshEvent) => void;
