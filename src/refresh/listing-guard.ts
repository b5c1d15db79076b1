import { type CredentialRef, refKey } from '../credentials/ref.ts';

/** The credentials told fresher news while one listing was under way (see ListingGuard). */
export interface TouchedKeys {
  /** Their keys (refKey). */
  readonly keys: ReadonlySet<string>;
  /** The listing is applied: stop collecting. */
  stop(): void;
}

/**
 * Keeps a listing's older view from undoing fresher news. A listing of the stored
 * credentials (the start-up load, a resync) is read at one moment and applied later; a
 * credential tracked or cancelled from fresher news meanwhile (a fleet change, a refresh)
 * is touched here, and that listing leaves it alone, whatever it says of it.
 */
export class ListingGuard {
  readonly #watches = new Set<Set<string>>();

  /** Collects the credentials touched from now until `stop()`: call it before reading the listing. */
  watch(): TouchedKeys {
    const keys = new Set<string>();
    this.#watches.add(keys);
    return { keys, stop: () => this.#watches.delete(keys) };
  }

  /** Fresher news about a credential: every listing under way must leave it alone. */
  touch(ref: CredentialRef): void {
    // Most of the time no listing is under way: no key is built for nothing.
    if (this.#watches.size === 0) return;
    const key = refKey(ref);
    for (const keys of this.#watches) keys.add(key);
  }
}
