/**
 * Every event Keygate publishes, with its fields. The one place event names and fields
 * are defined: the bus, GET /v1/events and webhooks carry these and nothing else, and
 * docs/events.md is kept in step with EVENT_FIELDS by a test. Never a secret in a field.
 */
import type { CredentialRef } from '../credentials/ref.ts';

export const REFRESH_EVENTS = [
  'refresh-scheduled',
  'refresh-success',
  'refresh-retry',
  'refresh-failed',
  'refresh-cancelled',
] as const;

export const LIFECYCLE_EVENTS = [
  'credential-stored',
  'credential-deleted',
  'connected',
  'connect-failed',
  'needs-reauth',
  'key-created',
  'key-revoked',
] as const;

/** Upstream budgets (src/budgets). */
export const BUDGET_EVENTS = ['budget-exhausted'] as const;

export const EVENT_TYPES = [...REFRESH_EVENTS, ...LIFECYCLE_EVENTS, ...BUDGET_EVENTS] as const;

export type RefreshEventName = (typeof REFRESH_EVENTS)[number];
export type EventType = (typeof EVENT_TYPES)[number];

/** Why a refresh runs: the schedule, an upstream 401 seen by the proxy, or an operator. */
export type RefreshReason = 'scheduled' | 'unauthorized' | 'forced';

/** Stamped by the bus on every event. */
export interface EventEnvelope {
  /** The replica that produced the event (`replica.id`, default host name + pid). */
  replica: string;
  /** ISO 8601, when the event happened. */
  time: string;
}

/** A refresh lifecycle event, as the Refresher and the RefreshScheduler emit it (no replica yet); its credential's three names first. */
export interface RefreshEvent extends CredentialRef {
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

/** What the revocation at the provider (RFC 7009) came to when a credential was deleted. */
export type RevocationResult = 'revoked' | 'failed' | 'unsupported' | 'not_attempted';

export interface EventData {
  'refresh-scheduled': CredentialRef & Pick<RefreshEvent, 'attempt' | 'dueAt'>;
  'refresh-success': CredentialRef & Pick<RefreshEvent, 'attempt' | 'reason' | 'expiresAt' | 'persisted'>;
  'refresh-retry': CredentialRef & Pick<RefreshEvent, 'attempt' | 'reason' | 'delayMs' | 'error'>;
  'refresh-failed': CredentialRef &
    Pick<RefreshEvent, 'attempt' | 'reason' | 'permanent' | 'persisted' | 'error'>;
  'refresh-cancelled': CredentialRef & Pick<RefreshEvent, 'attempt'>;
  'credential-stored': CredentialRef & {
    authType: string;
    status: string;
    expiresAt: string | null;
    /** `admin` (PUT .../credentials/...) or `connect` (the OAuth callback). */
    source: 'admin' | 'connect';
  };
  'credential-deleted': CredentialRef & { revocation?: RevocationResult };
  connected: CredentialRef & { expiresAt: string | null; scopes: string[] };
  /** A connect flow's callback failed; `error` is a stable Keygate code, never the provider's text. */
  'connect-failed': CredentialRef & { error: string };
  'needs-reauth': CredentialRef & { reason: string; error?: string };
  'key-created': {
    keyId: string;
    name?: string;
    tenants: string[];
    integrations?: string[];
    accounts?: string[];
  };
  'key-revoked': {
    keyId: string;
    name?: string;
    tenants?: string[];
    integrations?: string[];
    accounts?: string[];
  };
  /**
   * A credential's learned rate limit is spent: a request waits or is refused without
   * calling the provider. At most once per credential per reset window, per replica.
   */
  'budget-exhausted': CredentialRef & { quota: string; limit?: number; resetAt?: string };
}

/** An event as subscribers, GET /v1/events and webhooks see it. */
export type KeygateEvent<T extends EventType = EventType> = {
  [K in T]: {
    /** `<boot>-<seq>`, unique per process life: the SSE id and the webhook-id. */
    id: string;
    type: K;
    data: EventEnvelope & EventData[K];
  };
}[T];

/** What a publisher gives: the bus adds replica, time (unless given) and account `default`. */
export type EventInput<T extends EventType> = Loose<Omit<EventData[T], 'account'>> & {
  account?: string | undefined;
  time?: string | undefined;
};

// Optional fields may be given as undefined (they are left out).
type Loose<T> = { [K in keyof T]: Partial<Pick<T, K>> extends Pick<T, K> ? T[K] | undefined : T[K] };

// Every field of every event, in documentation order; the type check below fails when a
// field is added to EventData and not here (or here and not there).
const ENVELOPE = ['replica', 'time'] as const;
const CREDENTIAL = ['tenant', 'integration', 'account'] as const;
const KEY_SCOPE = ['keyId', 'name', 'tenants', 'integrations', 'accounts'] as const;

export const EVENT_FIELDS = {
  'refresh-scheduled': [...ENVELOPE, ...CREDENTIAL, 'attempt', 'dueAt'],
  'refresh-success': [...ENVELOPE, ...CREDENTIAL, 'attempt', 'reason', 'expiresAt', 'persisted'],
  'refresh-retry': [...ENVELOPE, ...CREDENTIAL, 'attempt', 'reason', 'delayMs', 'error'],
  'refresh-failed': [...ENVELOPE, ...CREDENTIAL, 'attempt', 'reason', 'permanent', 'persisted', 'error'],
  'refresh-cancelled': [...ENVELOPE, ...CREDENTIAL, 'attempt'],
  'credential-stored': [...ENVELOPE, ...CREDENTIAL, 'authType', 'status', 'expiresAt', 'source'],
  'credential-deleted': [...ENVELOPE, ...CREDENTIAL, 'revocation'],
  connected: [...ENVELOPE, ...CREDENTIAL, 'expiresAt', 'scopes'],
  'connect-failed': [...ENVELOPE, ...CREDENTIAL, 'error'],
  'needs-reauth': [...ENVELOPE, ...CREDENTIAL, 'reason', 'error'],
  'key-created': [...ENVELOPE, ...KEY_SCOPE],
  'key-revoked': [...ENVELOPE, ...KEY_SCOPE],
  'budget-exhausted': [...ENVELOPE, ...CREDENTIAL, 'quota', 'limit', 'resetAt'],
} as const satisfies { [T in EventType]: ReadonlyArray<keyof (EventEnvelope & EventData[T])> };

type Missing = {
  [T in EventType]: Exclude<keyof (EventEnvelope & EventData[T]), (typeof EVENT_FIELDS)[T][number]>;
}[EventType];
const everyFieldListed: [Missing] extends [never] ? true : Missing = true;
void everyFieldListed;

const KNOWN = new Set<string>(EVENT_TYPES);
export const isEventType = (name: string): name is EventType => KNOWN.has(name);
