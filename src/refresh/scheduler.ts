import { EventEmitter } from 'node:events';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Config } from '../config/schema.ts';
import { DEFAULT_ACCOUNT, credentialKey } from '../credentials/accounts.ts';
import type { Credential, CredentialListing, CredentialStatus } from '../credentials/types.ts';
import { isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { DueTimer } from './due-timer.ts';
import { dueTime } from '../credentials/due-time.ts';
import type { RefreshEvent, RefreshEventName, RefreshListener } from './events.ts';
import { MinHeap, type HeapItem } from './min-heap.ts';
import type { Refresher } from './refresher.ts';

/** What the scheduler needs to know of a credential: no secret, no decryption. */
export type Trackable = Pick<
  CredentialListing,
  'tenant' | 'integration' | 'authType' | 'status' | 'expiresAt' | 'lastRefreshedAt'
> & { /** `default` when absent. */ account?: string };

export interface SchedulerDeps {
  refresher: {
    refresh: Refresher['refresh'];
    on(name: RefreshEventName, listener: RefreshListener): unknown;
  };
  /** Lists every stored credential from metadata; used at start and on resync. */
  source: { listAll(): Promise<CredentialListing[]> };
  config: Readonly<Config>;
  logger: Logger;
  now?: () => number;
}

/**
 * Sharding of due refreshes across live replicas (see shard.ts and src/fleet/members.ts): a
 * due credential is attempted by its owner at once and by the replica of rank r only
 * `r × graceMs` later, after a cheap look at what is stored says it is still due.
 */
export interface Shard {
  /** This replica's place in the credential's order among the live replicas: 0 owns it. */
  rank(key: string): number;
  /** What is stored about the credential now (no decryption). */
  lookup(tenant: string, integration: string, account: string): Promise<Trackable>;
  graceMs: number;
}

const START_RETRY_MS = 5000;
const LOAD_SLICE = 10_000;

interface Entry extends HeapItem {
  tenant: string;
  integration: string;
  account: string;
  status: CredentialStatus;
  /** Consecutive failed scheduled refreshes; the next attempt is failures + 1. */
  failures: number;
  running: boolean;
  /** Due, but owned by another live replica: pushed back by the grace, to be checked before it runs. */
  deferred: boolean;
}

/**
 * Renews every OAuth credential refresh.bufferSeconds before it expires. One timer
 * serves the whole schedule: a min-heap by due time, with the timer aimed at its top,
 * so a million credentials cost one timer and O(log n) per change. Due refreshes run
 * under refresh.concurrency, so a backlog of expired tokens never stampedes a provider.
 *
 * Emits refresh-scheduled and refresh-cancelled itself, and forwards the Refresher's
 * refresh-retry, refresh-success and refresh-failed (whoever asked for the refresh).
 */
export class RefreshScheduler extends EventEmitter {
  readonly #deps: SchedulerDeps;
  readonly #refresh: Config['refresh'];
  readonly #now: () => number;
  readonly #heap = new MinHeap<Entry>();
  readonly #entries = new Map<string, Entry>();
  readonly #statusCounts: Record<CredentialStatus, number> = {
    active: 0,
    refresh_failed: 0,
    needs_reauth: 0,
  };
  readonly #timer: DueTimer;
  readonly #limit: LimitFunction;
  #stopped = false;
  #loading = false;
  // Keys tracked or cancelled from fresher news (a change, a refresh) while a listing was under
  // way: that listing's older view of them must not win.
  readonly #watches = new Set<Set<string>>();
  #shard: Shard | undefined;
  readonly #deferred = new Set<Entry>();
  /**
   * Due refreshes by what sharding made of them: run as the owner, deferred to another
   * replica, found refreshed by it (one metadata read), or taken over after the grace.
   */
  readonly shardCounts = { owned: 0, deferred: 0, checkedFresh: 0, takenOver: 0 };
  #applyingListing = false;

  constructor(deps: SchedulerDeps) {
    super();
    this.#deps = deps;
    this.#refresh = deps.config.refresh;
    this.#now = deps.now ?? Date.now;
    this.#timer = new DueTimer(() => this.#fire(), this.#now);
    this.#limit = pLimit(this.#refresh.concurrency);
    for (const name of ['refresh-retry', 'refresh-success', 'refresh-failed'] as const) {
      deps.refresher.on(name, (event: RefreshEvent) => {
        // Forward first, so listeners see success before the reschedule it causes.
        this.emit(name, event);
        this.#observe(name, event);
      });
    }
  }

  /** Shards due refreshes from now on (undefined: every due credential is attempted here). */
  useShard(shard: Shard | undefined): void {
    this.#shard = shard;
  }

  /** The live replicas changed: deferred refreshes this replica now owns are due at once. */
  reshard(): void {
    const shard = this.#shard;
    if (!shard) return;
    const now = this.#now();
    for (const entry of this.#deferred) {
      if (
        entry.due > now &&
        shard.rank(credentialKey(entry.tenant, entry.integration, entry.account)) === 0
      ) {
        this.#heap.update(entry, now);
      }
    }
    this.#arm();
  }

  /** Credentials in the schedule (due or waiting). */
  get size(): number {
    return this.#heap.size;
  }

  /** Timers the schedule holds: 0 or 1, whatever its size. */
  get activeTimers(): number {
    return this.#timer.active;
  }

  /** When the earliest refresh is due (ms since the epoch), if any. */
  get nextDueAt(): number | undefined {
    return this.#heap.peek()?.due;
  }

  /** Known credentials by status (needs_reauth ones are known but not scheduled). */
  get statusCounts(): Readonly<Record<CredentialStatus, number>> {
    return this.#statusCounts;
  }

  /** Lists every stored credential (metadata only) and schedules it. */
  async start(): Promise<number> {
    const touched = this.watchTouched();
    let listings: CredentialListing[];
    try {
      listings = await this.#deps.source.listAll();
    } catch (err) {
      touched.stop();
      throw err;
    }
    // The initial load is one summary line, not a refresh-scheduled event per credential, and
    // it yields now and then: a million credentials must not hold the event loop for seconds.
    this.#loading = true;
    try {
      for (let i = 0; i < listings.length; i += 1) {
        const listing = listings[i] as CredentialListing;
        if (!touched.keys.has(credentialKey(listing.tenant, listing.integration, listing.account))) {
          this.applyListing(listing);
        }
        if (i % LOAD_SLICE === LOAD_SLICE - 1) await new Promise((resolve) => setImmediate(resolve));
      }
    } finally {
      this.#loading = false;
      touched.stop();
    }
    this.#deps.logger.info('refresh schedule loaded', {
      event: 'refresh_schedule_loaded',
      credentials: listings.length,
      scheduled: this.#heap.size,
    });
    return listings.length;
  }

  /**
   * Schedules (or reschedules) a credential from what is stored about it (see dueTime):
   * due refresh.bufferSeconds before expiry, at once when that has passed. API keys,
   * credentials without expiry and needs_reauth ones are not scheduled.
   */
  track(credential: Trackable): void {
    if (this.#stopped) return;
    const account = credential.account ?? DEFAULT_ACCOUNT;
    this.#touch(credentialKey(credential.tenant, credential.integration, account));
    if (credential.authType === 'api_key' || !this.#refreshable(credential.integration)) {
      this.cancel(credential.tenant, credential.integration, account);
      return;
    }
    const entry = this.#entry(credential.tenant, credential.integration, account);
    this.#setStatus(entry, credential.status);
    if (entry.running) return; // its outcome reschedules it
    entry.deferred = false;
    this.#deferred.delete(entry);
    const due = this.#dueOf(credential);
    if (due === undefined) this.#heap.remove(entry);
    else this.#scheduleAt(entry, due);
    this.#arm();
  }

  /** start(), retried in the background while Vault cannot list (down at boot). */
  startInBackground(): void {
    this.start().catch((err: unknown) => {
      if (this.#stopped) return;
      this.#deps.logger.warn('cannot list credentials to schedule; retrying', {
        event: 'refresh_schedule_load_failed',
        errorCode: isKeygateError(err) ? err.code : 'unknown',
      });
      setTimeout(() => this.startInBackground(), START_RETRY_MS).unref();
    });
  }

  /**
   * Collects the credentials tracked or cancelled from fresher news (a fleet change, a
   * refresh) until `stop()`: a listing read before them must not undo them.
   */
  watchTouched(): { keys: Set<string>; stop(): void } {
    const keys = new Set<string>();
    this.#watches.add(keys);
    return { keys, stop: () => this.#watches.delete(keys) };
  }

  /** Schedules what a listing says, without counting it as fresher news (see watchTouched). */
  applyListing(listing: Trackable): void {
    this.#applyingListing = true;
    try {
      this.track(listing);
    } finally {
      this.#applyingListing = false;
    }
  }

  /** Removes a credential a listing no longer holds (see watchTouched). */
  cancelListed(tenant: string, integration: string, account: string): boolean {
    this.#applyingListing = true;
    try {
      return this.cancel(tenant, integration, account);
    } finally {
      this.#applyingListing = false;
    }
  }

  #touch(key: string): void {
    if (this.#applyingListing) return;
    for (const keys of this.#watches) keys.add(key);
  }

  /** True when the schedule already reflects this listing: same status, same due time. */
  reflects(credential: Trackable): boolean {
    const entry = this.#entries.get(
      credentialKey(credential.tenant, credential.integration, credential.account),
    );
    if (!entry) return credential.authType === 'api_key' || !this.#refreshable(credential.integration);
    if (entry.running) return true;
    if (entry.status !== credential.status) return false;
    const due = this.#dueOf(credential);
    return due === undefined ? !this.#heap.has(entry) : this.#heap.has(entry) && entry.due === due;
  }

  /** Every credential the scheduler knows, as [tenant, integration, account]. */
  *known(): IterableIterator<[string, string, string]> {
    for (const entry of this.#entries.values()) yield [entry.tenant, entry.integration, entry.account];
  }

  /** When the credential's next scheduled refresh is due (ms since the epoch), if it is scheduled. */
  dueAt(tenant: string, integration: string, account = DEFAULT_ACCOUNT): number | undefined {
    const entry = this.#entries.get(credentialKey(tenant, integration, account));
    return entry && this.#heap.has(entry) ? entry.due : undefined;
  }

  /** Removes a credential from the schedule (deleted, or replaced by an API key). */
  cancel(tenant: string, integration: string, account = DEFAULT_ACCOUNT): boolean {
    this.#touch(credentialKey(tenant, integration, account));
    const entry = this.#entries.get(credentialKey(tenant, integration, account));
    if (!entry) return false;
    const wasScheduled = this.#heap.remove(entry);
    this.#forget(entry);
    this.#arm();
    if (wasScheduled) this.#emit('refresh-cancelled', entry);
    return wasScheduled;
  }

  stop(): void {
    this.#stopped = true;
    this.#timer.clear();
    this.#limit.clearQueue();
  }

  #fire(): void {
    const now = this.#now();
    for (let top = this.#heap.peek(); top && top.due <= now; top = this.#heap.peek()) {
      this.#heap.remove(top);
      const shard = this.#shard;
      if (shard && !top.deferred) {
        const rank = shard.rank(credentialKey(top.tenant, top.integration, top.account));
        if (rank > 0) {
          // Another live replica owns it: give it the grace (no Vault call, no event).
          top.deferred = true;
          this.#deferred.add(top);
          this.shardCounts.deferred += 1;
          this.#heap.update(top, Math.max(now + 1, top.due + rank * shard.graceMs));
          continue;
        }
        this.shardCounts.owned += 1;
      }
      top.running = true;
      void this.#limit(() => this.#run(top));
    }
    this.#arm();
  }

  async #run(entry: Entry): Promise<void> {
    const { tenant, integration, account } = entry;
    const key = credentialKey(tenant, integration, account);
    if (entry.deferred) {
      entry.deferred = false;
      this.#deferred.delete(entry);
      if (await this.#doneElsewhere(entry)) return;
    }
    let credential: Credential | undefined;
    try {
      credential = await this.#deps.refresher.refresh(tenant, integration, { reason: 'scheduled' }, account);
    } catch (err) {
      entry.running = false;
      if (this.#stopped || this.#entries.get(key) !== entry) return;
      if (isKeygateError(err, 'credential_not_found')) return this.#forget(entry);
      if (isKeygateError(err, 'credential_refresh_failed')) return this.#setStatus(entry, 'needs_reauth');
      // Transient: try again later. The refresher reported token endpoint failures itself;
      // anything else (Vault down, a lease held too long) is reported here.
      if (isKeygateError(err, 'token_endpoint_unavailable')) {
        this.#setStatus(entry, 'refresh_failed');
      } else {
        const error = isKeygateError(err) ? err.code : 'internal_error';
        this.#deps.logger.warn('scheduled refresh failed', {
          event: 'refresh_scheduled_failed',
          tenant,
          integration,
          account,
          error,
        });
        this.#emit('refresh-failed', entry, { reason: 'scheduled', permanent: false, error });
      }
      entry.failures += 1;
      this.#scheduleAt(entry, this.#now() + this.#refresh.retryFailedAfterSeconds * 1000);
      return this.#arm();
    }
    entry.running = false;
    entry.failures = 0;
    if (this.#stopped || this.#entries.get(key) !== entry) return;
    this.track(credential);
  }

  // After the grace: did the owner refresh it (one metadata read)? Then follow what it stored.
  async #doneElsewhere(entry: Entry): Promise<boolean> {
    const { tenant, integration, account } = entry;
    const key = credentialKey(tenant, integration, account);
    const shard = this.#shard;
    if (!shard || shard.rank(key) === 0) return false; // the owner went: it is ours now
    let stored: Trackable;
    try {
      stored = await shard.lookup(tenant, integration, account);
    } catch (err) {
      if (!isKeygateError(err, 'credential_not_found')) return false; // cannot tell: refresh
      entry.running = false;
      this.#forget(entry);
      return true;
    }
    const due = this.#dueOf(stored);
    if (due !== undefined && due <= this.#now()) {
      this.shardCounts.takenOver += 1;
      return false;
    }
    this.shardCounts.checkedFresh += 1;
    entry.running = false;
    if (!this.#stopped && this.#entries.get(key) === entry) this.track(stored);
    return true;
  }

  // Refreshes asked for by others (the proxy's 401 path, an operator) move the schedule too.
  #observe(name: RefreshEventName, event: RefreshEvent): void {
    const account = event.account ?? DEFAULT_ACCOUNT;
    const entry = this.#entries.get(credentialKey(event.tenant, event.integration, account));
    if (entry?.running) return;
    // A credential refreshed anywhere (even one stored after the start-up listing) is followed.
    if (name === 'refresh-success' && event.expiresAt) {
      if (entry) entry.failures = 0;
      // The event's time is when the new token arrived: what lastRefreshedAt holds in Vault.
      this.track({
        ...event,
        account,
        authType: 'oauth2',
        status: 'active',
        expiresAt: event.expiresAt,
        lastRefreshedAt: event.time,
      });
    } else if (name === 'refresh-failed' && event.permanent) {
      const known = entry ?? this.#entry(event.tenant, event.integration, account);
      this.#heap.remove(known);
      this.#setStatus(known, 'needs_reauth');
      this.#arm();
    }
  }

  // Stored credentials of integrations this configuration does not have (or not as OAuth) stay put.
  #refreshable(integration: string): boolean {
    const type = this.#deps.config.integrations[integration]?.auth.type;
    return type === 'oauth2' || type === 'oauth2_client_credentials';
  }

  #dueOf(credential: Trackable): number | undefined {
    return dueTime(
      { ...credential, lastRefreshedAt: credential.lastRefreshedAt ?? null },
      this.#refresh.bufferSeconds * 1000,
      this.#now(),
    );
  }

  #scheduleAt(entry: Entry, due: number): void {
    this.#heap.update(entry, due);
    if (!this.#loading && this.listenerCount('refresh-scheduled') > 0) {
      this.#emit('refresh-scheduled', entry, { dueAt: new Date(due).toISOString() });
    }
  }

  #arm(): void {
    this.#timer.set(this.#stopped ? undefined : this.#heap.peek()?.due);
  }

  #entry(tenant: string, integration: string, account: string): Entry {
    const key = credentialKey(tenant, integration, account);
    let entry = this.#entries.get(key);
    if (!entry) {
      entry = {
        tenant,
        integration,
        account,
        due: 0,
        index: -1,
        status: 'active',
        failures: 0,
        running: false,
        deferred: false,
      };
      this.#entries.set(key, entry);
      this.#statusCounts.active += 1;
    }
    return entry;
  }

  #setStatus(entry: Entry, status: CredentialStatus): void {
    this.#statusCounts[entry.status] -= 1;
    this.#statusCounts[status] += 1;
    entry.status = status;
  }

  #forget(entry: Entry): void {
    const key = credentialKey(entry.tenant, entry.integration, entry.account);
    if (this.#entries.get(key) !== entry) return;
    this.#entries.delete(key);
    this.#deferred.delete(entry);
    this.#statusCounts[entry.status] -= 1;
  }

  #emit(name: RefreshEventName, entry: Entry, extra: Partial<RefreshEvent> = {}): void {
    const event: RefreshEvent = {
      tenant: entry.tenant,
      integration: entry.integration,
      account: entry.account,
      time: new Date(this.#now()).toISOString(),
      attempt: entry.failures + 1,
      ...extra,
    };
    this.emit(name, event);
  }
}
