/** setTimeout's ceiling: a longer delay fires at once (Node warns and uses 1 ms). */
export const MAX_TIMEOUT_MS = 2 ** 31 - 1;

/**
 * One timer aimed at an absolute time. A time beyond setTimeout's 24.8-day limit is
 * reached in hops: the timer wakes at the limit and aims again, so a 60-day expiry
 * neither overflows nor fires early.
 */
export class DueTimer {
  readonly #onDue: () => void;
  readonly #now: () => number;
  #timer: NodeJS.Timeout | undefined;
  #at: number | undefined;

  constructor(onDue: () => void, now: () => number = Date.now) {
    this.#onDue = onDue;
    this.#now = now;
  }

  /** 1 while armed, else 0: what the benchmark reports as active timers. */
  get active(): number {
    return this.#timer ? 1 : 0;
  }

  /** Aims at `at` (ms since the epoch); undefined disarms. Re-aiming at the same time is free. */
  set(at: number | undefined): void {
    if (at === this.#at && this.#timer) return;
    this.clear();
    if (at === undefined) return;
    this.#at = at;
    const delay = Math.min(Math.max(0, at - this.#now()), MAX_TIMEOUT_MS);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#at = undefined;
      if (this.#now() >= at) this.#onDue();
      else this.set(at); // a hop of a long wait, or a clock that ran slow
    }, delay);
    // The schedule never keeps a process alive on its own; the server does.
    this.#timer.unref();
  }

  clear(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#at = undefined;
  }
}
