import type { EventBus } from '../events/bus.ts';
import { isKeygateError } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import type { KvStore } from '../vault/kv.ts';
import { appendChanges, changesSince, toChangesRecord, toStoredChanges, type Change } from './changes.ts';
import type { FleetMembers } from './members.ts';

const PATH = 'changes';
const MAX_PENDING = 10_000;
const CAS_TRIES = 20;

export interface FleetSyncDeps {
  kv: Pick<KvStore, 'read' | 'write'>;
  bus: EventBus;
  logger: Logger;
  pollMs: number;
  kept: number;
  /** The heartbeat that due refreshes are sharded by; started and stopped with the poll. */
  members?: FleetMembers | undefined;
  /** Drop what the caches hold for a change made by another replica. */
  evict: (change: Change) => void;
  /** Another replica's changes were lost to this one: drop every cache. */
  evictAll: () => void;
}

/**
 * Fast fleet agreement. What this replica changes (a key revoked, a credential stored or
 * deleted: taken from the event bus, so no route needs to know) is appended to the
 * `changes` record in KV; every `pollMs` the record is read (one KV read) and the other
 * replicas' changes evict the matching cache entries here. Hot-path caches stay; they
 * only forget sooner. Vault down: polls fail quietly, caches behave as without it, and
 * the appends wait and are retried.
 */
export class FleetSync {
  readonly #deps: FleetSyncDeps;
  readonly #self: string;
  readonly #pending: Change[] = [];
  #seen: number | undefined;
  #timer: NodeJS.Timeout | undefined;
  #flushing = false;
  #stopped = false;
  #pollFailing = false;
  #everFailed = false;
  #unsubscribe: (() => void) | undefined;
  /** Reads and writes of the changes record, for the Vault cost figures. */
  readonly counts = { polls: 0, appends: 0, conflicts: 0 };

  constructor(deps: FleetSyncDeps) {
    this.#deps = deps;
    this.#self = deps.bus.boot;
  }

  start(): void {
    this.#unsubscribe = this.#deps.bus.subscribe(({ type, data }) => {
      if (type === 'key-revoked' && 'keyId' in data) this.#record({ kind: 'key', id: data.keyId });
      else if ((type === 'credential-stored' || type === 'credential-deleted') && 'tenant' in data) {
        const { tenant, integration, account } = data;
        this.#record({ kind: 'credential', tenant, integration, account });
      }
    });
    void this.#poll();
    this.#deps.members?.start();
  }

  stop(): void {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    void this.#deps.members?.stop();
  }

  get members(): FleetMembers | undefined {
    return this.#deps.members;
  }

  /** Appends still waiting for Vault. */
  get pending(): number {
    return this.#pending.length;
  }

  #record(change: Change): void {
    if (this.#pending.length >= MAX_PENDING) this.#pending.shift();
    this.#pending.push(change);
    void this.#flush();
  }

  // One writer at a time per process; what arrives meanwhile goes in the next write.
  async #flush(): Promise<void> {
    if (this.#flushing || this.#stopped) return;
    this.#flushing = true;
    try {
      while (this.#pending.length > 0 && !this.#stopped) {
        const batch = this.#pending.splice(0);
        if (!(await this.#append(batch))) {
          this.#pending.unshift(...batch);
          await new Promise((resolve) => setTimeout(resolve, 1000 + Math.random() * 1000).unref());
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  async #append(batch: Change[]): Promise<boolean> {
    for (let attempt = 0; attempt < CAS_TRIES; attempt += 1) {
      try {
        const current = await this.#deps.kv.read(PATH);
        const version = current?.version ?? 0;
        const record = appendChanges(
          current && toChangesRecord(current.data),
          batch,
          this.#self,
          version + 1,
          this.#deps.kept,
        );
        await this.#deps.kv.write(PATH, toStoredChanges(record), { cas: version });
        this.counts.appends += 1;
        return true;
      } catch (err) {
        if (!isKeygateError(err, 'conflict')) {
          this.#deps.logger.warn('cannot record a change for the other replicas; retrying', {
            event: 'fleet_change_write_failed',
            errorCode: isKeygateError(err) ? err.code : 'unknown',
            pending: batch.length,
            // Vault's reason (it names limits and paths, never a value): a 400 here is not a race.
            vault: (err as { cause?: { vault?: unknown } }).cause?.vault,
          });
          return false;
        }
        this.counts.conflicts += 1;
        await new Promise((resolve) => setTimeout(resolve, Math.random() * 20 * (attempt + 1)));
      }
    }
    return false;
  }

  async #poll(): Promise<void> {
    if (this.#stopped) return;
    try {
      this.counts.polls += 1;
      const current = await this.#deps.kv.read(PATH);
      const version = current?.version ?? 0;
      if (this.#seen === undefined) {
        // At start the caches are empty: nothing to evict, only a place to start from (unless
        // Vault came back after failed polls, and caches filled before this one).
        if (this.#everFailed) this.#deps.evictAll();
        this.#seen = version;
      } else if (version < this.#seen) {
        // The record was destroyed and made again: what happened meanwhile is unknown.
        this.#deps.evictAll();
        this.#seen = version;
      } else {
        const due = changesSince(current && toChangesRecord(current.data), version, this.#seen, this.#self);
        if (due.everything) this.#deps.evictAll();
        else for (const change of due.changes) this.#deps.evict(change);
        this.#seen = version;
      }
      if (this.#pollFailing)
        this.#deps.logger.info('fleet changes readable again', { event: 'fleet_poll_recovered' });
      this.#pollFailing = false;
    } catch (err) {
      if (!this.#pollFailing) {
        this.#deps.logger.warn('cannot read the fleet changes; caches expire by their TTL meanwhile', {
          event: 'fleet_poll_failed',
          errorCode: isKeygateError(err) ? err.code : 'unknown',
        });
      }
      this.#pollFailing = true;
      this.#everFailed = true;
    }
    if (!this.#stopped) {
      this.#timer = setTimeout(() => void this.#poll(), this.#deps.pollMs);
      this.#timer.unref();
    }
  }
}
