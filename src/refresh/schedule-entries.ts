import { type CredentialRef, refKey } from '../credentials/ref.ts';
import type { CredentialStatus } from '../credentials/types.ts';
import type { HeapItem } from './min-heap.ts';
import type { Gated } from './shard-gate.ts';

/** One credential the schedule knows: its place in the heap, its status, its refresh in progress. */
export interface ScheduleEntry extends HeapItem, Gated {
  due: number;
  status: CredentialStatus;
  /** Consecutive failed scheduled refreshes; the next attempt is failures + 1. */
  failures: number;
  running: boolean;
}

/**
 * The credentials the schedule knows, by key (refKey), and how many of them are in each
 * status: kept with every change, so the metrics read counts, never walk a million entries.
 * needs_reauth ones are known but not scheduled.
 */
export class ScheduleEntries {
  readonly #byKey = new Map<string, ScheduleEntry>();
  readonly #counts: Record<CredentialStatus, number> = { active: 0, refresh_failed: 0, needs_reauth: 0 };

  get counts(): Readonly<Record<CredentialStatus, number>> {
    return this.#counts;
  }

  get(ref: CredentialRef): ScheduleEntry | undefined {
    return this.#byKey.get(refKey(ref));
  }

  /** The credential's entry; a new one (active, not in the heap) when it was not known. */
  ensure(ref: CredentialRef): ScheduleEntry {
    const key = refKey(ref);
    let entry = this.#byKey.get(key);
    if (!entry) {
      entry = {
        tenant: ref.tenant,
        integration: ref.integration,
        account: ref.account,
        due: 0,
        index: -1,
        status: 'active',
        failures: 0,
        running: false,
        deferred: false,
      };
      this.#byKey.set(key, entry);
      this.#counts.active += 1;
    }
    return entry;
  }

  /** False once the entry was forgotten, or replaced by a newer one of the same credential. */
  holds(entry: ScheduleEntry): boolean {
    return this.#byKey.get(refKey(entry)) === entry;
  }

  setStatus(entry: ScheduleEntry, status: CredentialStatus): void {
    this.#counts[entry.status] -= 1;
    this.#counts[status] += 1;
    entry.status = status;
  }

  /** Drops the entry; false when it was no longer held (see holds). */
  forget(entry: ScheduleEntry): boolean {
    const key = refKey(entry);
    if (this.#byKey.get(key) !== entry) return false;
    this.#byKey.delete(key);
    this.#counts[entry.status] -= 1;
    return true;
  }

  values(): IterableIterator<ScheduleEntry> {
    return this.#byKey.values();
  }
}
