import { EventEmitter } from 'node:events';
import pLimit, { type LimitFunction } from 'p-limit';
import type { Config } from '../config/schema.ts';
import type { CredentialRef } from '../credentials/ref.ts';
import type { Credential, CredentialListing, CredentialStatus } from '../credentials/types.ts';
import { isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { DueRule } from './due-rule.ts';
import { DueTimer } from './due-timer.ts';
import type { RefreshEvent, RefreshEventName, RefreshListener } from './events.ts';
import { ListingGuard, type TouchedKeys } from './listing-guard.ts';
import { ListingLoad } from './listing-load.ts';
import { MinHeap } from './min-heap.ts';
import type { Refresher } from './refresher.ts';
import { ScheduleEntries, type ScheduleEntry as Entry } from './schedule-entries.ts';
import { type AfterGrace, type Shard, type ShardCounts, ShardGate } from './shard-gate.ts';
import type { Trackable } from './trackable.ts';

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
 * Renews every OAuth credential refresh.bufferSeconds before it expires. One timer
 * serves the whole schedule: a min-heap by due time, with the timer aimed at its top,
 * so a million credentials cost one timer and O(log n) per change. Due refreshes run
 * under refresh.concurrency, so a backlog of expired tokens never stampedes a provider.
 *
 * The schedule itself lives here: the heap, the timer, running the due refreshes. Beside
 * it: the credentials it knows (schedule-entries.ts), when one is due (due-rule.ts), which
 * due refresh this replica attempts (shard-gate.ts), and the listings it is loaded and
 * reconciled from (listing-load.ts, listing-guard.ts, resync.ts); its methods for those
 * hand over to them.
 *
 * Emits refresh-scheduled and refresh-cancelled itself, and forwards the Refresher's
 * refresh-retry, refresh-success and refresh-failed (whoever asked for the refresh).
 */
export class RefreshScheduler extends EventEmitter {
  readonly #deps: SchedulerDeps;
  readonly #now: () => number;
  readonly #rule: DueRule;
  readonly #heap = new MinHeap<Entry>();
  readonly #entries = new ScheduleEntries();
  readonly #timer: DueTimer;
  readonly #limit: LimitFunction;
  readonly #gate: ShardGate<Entry>;
  readonly #guard = new ListingGuard();
  readonly #load: ListingLoad;
  #stopped = false;

  constructor(deps: SchedulerDeps) {
    super();
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#rule = new DueRule(deps.config, this.#now);
    this.#timer = new DueTimer(() => this.#fire(), this.#now);
    this.#limit = pLimit(deps.config.refresh.concurrency);
    this.#gate = new ShardGate(this.#rule, this.#now);
    this.#load = new ListingLoad({ schedule: this, source: deps.source, logger: deps.logger });
    for (const name of ['refresh-retry', 'refresh-success', 'refresh-failed'] as const) {
      deps.refresher.on(name, (event: RefreshEvent) => {
        // Forward first, so listeners see success before the reschedule it causes.
        this.emit(name, event);
        this.#observe(name, event);
      });
    }
  }

  // --- The shard gate (shard-gate.ts) ---

  /** Shards due refreshes from now on (undefined: every due credential is attempted here). */
  useShard(shard: Shard | undefined): void {
    this.#gate.use(shard);
  }

  /** The live replicas changed: deferred refreshes this replica now owns are due at once. */
  reshard(): void {
    const now = this.#now();
    for (const entry of this.#gate.ownedNow(now)) this.#heap.update(entry, now);
    this.#arm();
  }

  /** Due refreshes by what the shard gate made of them. */
  get shardCounts(): Readonly<ShardCounts> {
    return this.#gate.counts;
  }

  // --- Listings (listing-load.ts, listing-guard.ts, resync.ts) ---

  /** Lists every stored credential (metadata only) and schedules it. */
  start(): Promise<number> {
    return this.#load.run();
  }

  /** start(), retried in the background while Vault cannot list (down at boot). */
  startInBackground(): void {
    this.#load.runInBackground();
  }

  /**
   * Collects the credentials tracked or cancelled from fresher news (a fleet change, a
   * refresh) until `stop()`: a listing read before them must not undo them.
   */
  watchTouched(): TouchedKeys {
    return this.#guard.watch();
  }

  /** Schedules what a listing says, without counting it as fresher news (see watchTouched). */
  applyListing(listing: Trackable): void {
    this.#track(listing, false);
  }

  /** Removes a credential a listing no longer holds (see watchTouched). */
  cancelListed(ref: CredentialRef): boolean {
    return this.#cancel(ref, false);
  }

  /** True when the schedule already reflects this listing: same status, same due time. */
  reflects(credential: Trackable): boolean {
    const entry = this.#entries.get(credential);
    if (!entry) return !this.#rule.schedules(credential);
    if (entry.running) return true;
    if (entry.status !== credential.status) return false;
    const due = this.#rule.dueOf(credential);
    return due === undefined ? !this.#heap.has(entry) : this.#heap.has(entry) && entry.due === due;
  }

  // --- The schedule ---

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
    return this.#entries.counts;
  }

  /**
   * Schedules (or reschedules) a credential from what is stored about it (see DueRule):
   * due refresh.bufferSeconds before expiry, at once when that has passed. API keys,
   * credentials without expiry and needs_reauth ones are not scheduled.
   */
  track(credential: Trackable): void {
    this.#track(credential, true);
  }

  /** Every credential the scheduler knows. */
  known(): IterableIterator<CredentialRef> {
    return this.#entries.values();
  }

  /** When the credential's next scheduled refresh is due (ms since the epoch), if it is scheduled. */
  dueAt(ref: CredentialRef): number | undefined {
    const entry = this.#entries.get(ref);
    return entry && this.#heap.has(entry) ? entry.due : undefined;
  }

  /** Removes a credential from the schedule (deleted, or replaced by an API key). */
  cancel(ref: CredentialRef): boolean {
    return this.#cancel(ref, true);
  }

  stop(): void {
    this.#stopped = true;
    this.#load.stop();
    this.#timer.clear();
    this.#limit.clearQueue();
  }

  // `news`: told by a write, a fleet change or a refresh, which a listing under way must not
  // undo (ListingGuard); false when the listing itself says it.
  #track(credential: Trackable, news: boolean): void {
    if (this.#stopped) return;
    if (!this.#rule.schedules(credential)) {
      this.#cancel(credential, news);
      return;
    }
    const entry = this.#entries.ensure(credential);
    if (news) this.#guard.touch(entry);
    this.#entries.setStatus(entry, credential.status);
    if (entry.running) return; // its outcome reschedules it
    this.#gate.release(entry);
    const due = this.#rule.dueOf(credential);
    if (due === undefined) this.#heap.remove(entry);
    else this.#scheduleAt(entry, due);
    this.#arm();
  }

  #cancel(ref: CredentialRef, news: boolean): boolean {
    if (news) this.#guard.touch(ref);
    const entry = this.#entries.get(ref);
    if (!entry) return false;
    const wasScheduled = this.#heap.remove(entry);
    this.#forget(entry);
    this.#arm();
    if (wasScheduled) this.#emit('refresh-cancelled', entry);
    return wasScheduled;
  }

  #fire(): void {
    const now = this.#now();
    for (let top = this.#heap.peek(); top && top.due <= now; top = this.#heap.peek()) {
      this.#heap.remove(top);
      const deferredTo = this.#gate.deferral(top, now);
      if (deferredTo !== undefined) {
        this.#heap.update(top, deferredTo);
        continue;
      }
      top.running = true;
      void this.#limit(() => this.#run(top));
    }
    this.#arm();
  }

  async #run(entry: Entry): Promise<void> {
    if (entry.deferred) {
      const after = await this.#gate.afterGrace(entry);
      if (after !== 'refresh') return this.#follow(entry, after);
    }
    let credential: Credential;
    try {
      credential = await this.#deps.refresher.refresh(entry, { reason: 'scheduled' });
    } catch (err) {
      entry.running = false;
      if (this.#stopped || !this.#entries.holds(entry)) return;
      if (isKeygateError(err, 'credential_not_found')) return this.#forget(entry);
      if (isKeygateError(err, 'credential_refresh_failed')) {
        return this.#entries.setStatus(entry, 'needs_reauth');
      }
      // Transient: try again later. The refresher reported token endpoint failures itself;
      // anything else (Vault down, a lease held too long) is reported here.
      if (isKeygateError(err, 'token_endpoint_unavailable')) {
        this.#entries.setStatus(entry, 'refresh_failed');
      } else {
        const error = isKeygateError(err) ? err.code : 'internal_error';
        this.#deps.logger.warn('scheduled refresh failed', {
          event: 'refresh_scheduled_failed',
          tenant: entry.tenant,
          integration: entry.integration,
          account: entry.account,
          error,
        });
        this.#emit('refresh-failed', entry, { reason: 'scheduled', permanent: false, error });
      }
      entry.failures += 1;
      this.#scheduleAt(entry, this.#now() + this.#deps.config.refresh.retryFailedAfterSeconds * 1000);
      return this.#arm();
    }
    entry.running = false;
    entry.failures = 0;
    if (this.#stopped || !this.#entries.holds(entry)) return;
    this.track(credential);
  }

  // After the grace, its owner had refreshed it, or it was deleted: follow what is stored.
  #follow(entry: Entry, after: Exclude<AfterGrace, 'refresh'>): void {
    entry.running = false;
    if (after === 'gone') this.#forget(entry);
    else if (!this.#stopped && this.#entries.holds(entry)) this.track(after);
  }

  // Refreshes asked for by others (the proxy's 401 path, an operator) move the schedule too.
  #observe(name: RefreshEventName, event: RefreshEvent): void {
    const entry = this.#entries.get(event);
    if (entry?.running) return;
    // A credential refreshed anywhere (even one stored after the start-up listing) is followed.
    if (name === 'refresh-success' && event.expiresAt) {
      if (entry) entry.failures = 0;
      // The event's time is when the new token arrived: what lastRefreshedAt holds in Vault.
      this.track({
        ...event,
        authType: 'oauth2',
        status: 'active',
        expiresAt: event.expiresAt,
        lastRefreshedAt: event.time,
      });
    } else if (name === 'refresh-failed' && event.permanent) {
      const known = entry ?? this.#entries.ensure(event);
      this.#heap.remove(known);
      this.#entries.setStatus(known, 'needs_reauth');
      this.#arm();
    }
  }

  #scheduleAt(entry: Entry, due: number): void {
    this.#heap.update(entry, due);
    if (!this.#load.loading && this.listenerCount('refresh-scheduled') > 0) {
      this.#emit('refresh-scheduled', entry, { dueAt: new Date(due).toISOString() });
    }
  }

  #arm(): void {
    this.#timer.set(this.#stopped ? undefined : this.#heap.peek()?.due);
  }

  #forget(entry: Entry): void {
    if (this.#entries.forget(entry)) this.#gate.release(entry);
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
