import { type CredentialRef, refKey } from '../credentials/ref.ts';
import { isKeygateError } from '../errors.ts';
import type { DueRule } from './due-rule.ts';
import type { Trackable } from './trackable.ts';

/**
 * The live replicas a due refresh is sharded over (see shard.ts and src/fleet/members.ts),
 * as src/fleet/setup.ts hands them down.
 */
export interface Shard {
  /** This replica's place in the credential's order among the live replicas (key: refKey): 0 owns it. */
  rank(key: string): number;
  /** What is stored about the credential now (no decryption). */
  lookup(ref: CredentialRef): Promise<Trackable>;
  graceMs: number;
}

/** A scheduled credential as the gate sees it; the schedule's entries are these. */
export interface Gated extends CredentialRef {
  /** When it is due (ms since the epoch). */
  readonly due: number;
  /** Due, but owned by another live replica: pushed back by the grace, to be checked before it runs. */
  deferred: boolean;
}

/**
 * Due refreshes by what the gate made of them: run as the owner, deferred to another
 * replica, found refreshed by it (one metadata read), or taken over after the grace.
 */
export interface ShardCounts {
  owned: number;
  deferred: number;
  checkedFresh: number;
  takenOver: number;
}

/** What to do with a deferred refresh after its grace (see ShardGate.afterGrace). */
export type AfterGrace = 'refresh' | 'gone' | Trackable;

/**
 * Decides, for each refresh that falls due, whether this replica attempts it: at once when
 * it owns the credential (or nothing is sharded), else only `rank × graceMs` later, after a
 * cheap look at what is stored says it is still due. The schedule asks; the gate keeps the
 * deferred refreshes (for a reshard) and counts its decisions.
 */
export class ShardGate<T extends Gated> {
  readonly #rule: Pick<DueRule, 'dueOf'>;
  readonly #now: () => number;
  #shard: Shard | undefined;
  readonly #deferred = new Set<T>();
  readonly counts: ShardCounts = { owned: 0, deferred: 0, checkedFresh: 0, takenOver: 0 };

  constructor(rule: Pick<DueRule, 'dueOf'>, now: () => number) {
    this.#rule = rule;
    this.#now = now;
  }

  /** Shards due refreshes from now on (undefined: every due credential is attempted here). */
  use(shard: Shard | undefined): void {
    this.#shard = shard;
  }

  /**
   * A refresh fell due at `now`: undefined to run it here, or the later time it waits until
   * because another live replica owns it (no Vault call, no event). One that was deferred
   * already had its grace: it runs, and afterGrace decides.
   */
  deferral(entry: T, now: number): number | undefined {
    const shard = this.#shard;
    if (!shard || entry.deferred) return undefined;
    const rank = shard.rank(refKey(entry));
    if (rank === 0) {
      this.counts.owned += 1;
      return undefined;
    }
    entry.deferred = true;
    this.#deferred.add(entry);
    this.counts.deferred += 1;
    return Math.max(now + 1, entry.due + rank * shard.graceMs);
  }

  /** The entry is no longer waiting on another replica (rescheduled from news, or forgotten). */
  release(entry: T): void {
    entry.deferred = false;
    this.#deferred.delete(entry);
  }

  /** The live replicas changed: the deferred refreshes, not yet due, that this replica owns now. */
  *ownedNow(now: number): IterableIterator<T> {
    const shard = this.#shard;
    if (!shard) return;
    for (const entry of this.#deferred) {
      if (entry.due > now && shard.rank(refKey(entry)) === 0) yield entry;
    }
  }

  /**
   * A deferred refresh after its grace: did the owner refresh it (one metadata read)?
   * `refresh` when it is still due, when this replica owns it now, or when the read fails;
   * `gone` when the credential was deleted; else what is stored, for the schedule to follow.
   */
  async afterGrace(entry: T): Promise<AfterGrace> {
    this.release(entry);
    const shard = this.#shard;
    if (!shard || shard.rank(refKey(entry)) === 0) return 'refresh'; // the owner went: it is ours now
    let stored: Trackable;
    try {
      stored = await shard.lookup(entry);
    } catch (err) {
      return isKeygateError(err, 'credential_not_found') ? 'gone' : 'refresh'; // cannot tell: refresh
    }
    const due = this.#rule.dueOf(stored);
    if (due !== undefined && due <= this.#now()) {
      this.counts.takenOver += 1;
      return 'refresh';
    }
    this.counts.checkedFresh += 1;
    return stored;
  }
}
