import type { KeygateEvent } from '../catalogue.ts';
import { backoffMs } from './backoff.ts';

/** An event waiting for one receiver. */
export interface Pending {
  event: KeygateEvent;
  body: string;
  publishedAt: number;
  attempts: number;
}

export type DropReason = 'queue_full' | 'expired' | 'shutdown';

export interface DeliveryQueueOptions {
  queueSize: number;
  concurrency: number;
  retryForMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  /** One POST; resolves true on a 2xx, false on anything else (never rejects). */
  send: (item: Pending, signal: AbortSignal) => Promise<boolean>;
  onDelivered: (item: Pending) => void;
  onFailedAttempt: (item: Pending) => void;
  onDropped: (reason: DropReason, count: number) => void;
  now?: () => number;
}

/**
 * The deliveries to one receiver: a bounded FIFO, a few POSTs in flight, and one backoff
 * for the receiver as a whole (exponential with full jitter, grown by each failure and reset
 * by a success), so a dead receiver gets a probe per backoff rather than one per event.
 * A failed event goes back to the head and is retried until `retryForMs` after it was
 * published. Enqueueing is O(1) and synchronous: a slow or dead receiver fills its own queue
 * (then drops, counted), never the publisher's time.
 */
export class DeliveryQueue {
  readonly #o: DeliveryQueueOptions;
  readonly #now: () => number;
  readonly #waiting: Pending[] = [];
  readonly #inflight = new Set<AbortController>();
  #failures = 0;
  #pausedUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #idle: Array<() => void> = [];

  constructor(options: DeliveryQueueOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
  }

  /** Events waiting or in flight. */
  get size(): number {
    return this.#waiting.length + this.#inflight.size;
  }

  enqueue(event: KeygateEvent, body: string): void {
    if (this.#closed) return;
    if (this.size >= this.#o.queueSize) return this.#o.onDropped('queue_full', 1);
    this.#waiting.push({ event, body, publishedAt: this.#now(), attempts: 0 });
    this.#pump();
  }

  /** Resolves when nothing is waiting or in flight, or after `withinMs`. */
  async drain(withinMs: number): Promise<void> {
    if (this.size === 0) return;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      new Promise<void>((resolve) => this.#idle.push(resolve)),
      new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs))),
    ]);
    clearTimeout(timer);
  }

  /** Stops for good: POSTs in flight are aborted, what is left is dropped (counted). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    const left = this.size;
    for (const controller of this.#inflight) controller.abort();
    this.#waiting.length = 0;
    if (left > 0) this.#o.onDropped('shutdown', left);
  }

  #pump(): void {
    if (this.#closed) return;
    const now = this.#now();
    if (now < this.#pausedUntil) return this.#wake(this.#pausedUntil - now);
    while (this.#inflight.size < this.#o.concurrency && this.#waiting.length > 0) {
      const item = this.#waiting.shift() as Pending;
      if (now - item.publishedAt >= this.#o.retryForMs) {
        this.#o.onDropped('expired', 1);
        continue;
      }
      void this.#deliver(item);
    }
    if (this.size === 0) for (const resolve of this.#idle.splice(0)) resolve();
  }

  async #deliver(item: Pending): Promise<void> {
    const controller = new AbortController();
    this.#inflight.add(controller);
    item.attempts += 1;
    const ok = await this.#o.send(item, controller.signal);
    this.#inflight.delete(controller);
    if (this.#closed) return;
    if (ok) {
      this.#failures = 0;
      this.#o.onDelivered(item);
    } else {
      this.#failures += 1;
      this.#o.onFailedAttempt(item);
      const now = this.#now();
      const wait = backoffMs(this.#failures, { minMs: this.#o.minBackoffMs, maxMs: this.#o.maxBackoffMs });
      this.#pausedUntil = Math.max(this.#pausedUntil, now + wait);
      if (now - item.publishedAt >= this.#o.retryForMs) this.#o.onDropped('expired', 1);
      else this.#waiting.unshift(item);
    }
    this.#pump();
  }

  #wake(afterMs: number): void {
    if (this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#pump();
    }, afterMs);
    this.#timer.unref();
  }
}
