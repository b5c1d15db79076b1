import type { CredentialRef } from '../credentials/ref.ts';
import { KeygateError } from '../errors.ts';
import { budgetExhausted, retrySeconds } from './answers.ts';
import { FairQueue, Queued } from './fair-queue.ts';
import { MAX_OBSERVATIONS, type Observations } from './observations.ts';
import { LEARNED_REFUSAL_CAP_MS, Window } from './window.ts';

/** What the proxy hands budgets about one request: ProxyState fits it as it is. */
export interface BudgetHolder extends CredentialRef {
  /** Who is calling: fair shares are counted per `Caller.id`. */
  readonly caller?: { readonly id: string } | undefined;
  /** The number budgets gave the attempt in flight; its answer is news about the provider's count after it. */
  budgetSeq?: number | undefined;
  /** A request whose caller hangs up stops waiting. */
  readonly callerGone?: { readonly aborted: boolean; readonly signal: AbortSignal } | undefined;
}

/** What a credential's budget needs from its integration's settings, metrics and events. */
export interface BudgetPolicy {
  readonly maxWaitMs: number;
  readonly fairShare: boolean;
  /** A request waits or is refused because a quota is spent (not merely paced): at most once per reset window. */
  exhausted(budget: CredentialBudget, quota: Window | undefined, resetAt: number): void;
  refused(): void;
  waited(ms: number, outcome: 'admitted' | 'refused' | 'gone'): void;
  now(): number;
}

/**
 * Requests let through without a look at the quotas after one that had a look (bounded,
 * so a window that rolls over into pacing meanwhile is noticed soon).
 */
const FREE_RUN = 16;

/** Requests waiting at once per credential; beyond it a request is refused at once. */
export const MAX_WAITING = 10_000;

class Waiting extends Queued {
  readonly holder: BudgetHolder;
  resolve!: () => void;
  reject!: (err: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;

  constructor(caller: string, since: number, holder: BudgetHolder) {
    super(caller, since);
    this.holder = holder;
  }

  /** Detaches from the caller's signal; call before settling. */
  done(): void {
    if (this.onAbort) this.signal?.removeEventListener('abort', this.onAbort);
  }
}

/**
 * One credential's upstream budget: the quotas learned from its answers, a Retry-After
 * block, the attempts admitted so far (`seq`), and the requests waiting their turn.
 *
 * `admit` is the hot path: when nobody waits and every quota has room it counts the
 * attempt and returns undefined, allocating nothing. Otherwise the request waits in the
 * fair queue (a promise) until one timer, armed for the next moment anything can change
 * (a quota's reset, a paced slot, the oldest deadline), or an answer's news lets it go —
 * or until `maxWaitMs`, when it is refused with 429 upstream_budget_exhausted. A request
 * that could not go within `maxWaitMs` anyway is refused at once.
 */
export class CredentialBudget {
  readonly ref: CredentialRef;
  readonly windows: Window[] = [];
  /** Attempts admitted so far. */
  seq = 0;
  /** A 429's or 503's Retry-After, capped. */
  blockedUntil = 0;
  learnedAt = 0;
  #usedAt = 0;
  /** The next `budget-exhausted` event is not before this. */
  #noticeUntil = 0;
  readonly #policy: BudgetPolicy;
  readonly #queue = new FairQueue<Waiting>();
  /** Requests up to this number go without a look (see admit); never past `seq` while any wait. */
  #freeUntil = 0;
  #timer: NodeJS.Timeout | undefined;
  /** What stood in the way at the last nextAt: a quota, or undefined for the Retry-After block. */
  #blocker: Window | undefined;
  readonly #onTimer = () => {
    this.#timer = undefined;
    this.#release();
  };

  constructor(ref: CredentialRef, policy: BudgetPolicy) {
    this.ref = ref;
    this.#policy = policy;
  }

  get waiting(): number {
    return this.#queue.size;
  }

  /** When the next request can go (`now` or earlier: at once; Infinity: only news can tell). */
  nextAt(now: number): number {
    let at = this.blockedUntil > now ? this.blockedUntil : now;
    this.#blocker = undefined;
    for (const window of this.windows) {
      const t = window.nextAt(now, this.seq);
      if (t > at) {
        at = t;
        this.#blocker = window;
      }
    }
    return at;
  }

  /**
   * Undefined: go now (counted). A promise: wait for a turn. Throws upstream_budget_exhausted.
   * Room only grows with time (a window resets, a bucket refills), so after a full look
   * the next few requests that fit go without reading the clock or the quotas: counting
   * them is the whole fast path (`#freeUntil`; news from an answer ends the run).
   */
  admit(holder: BudgetHolder, clock: () => number): Promise<void> | undefined {
    if (this.seq < this.#freeUntil) {
      this.seq += 1;
      holder.budgetSeq = this.seq;
      return undefined;
    }
    const now = clock();
    const at = this.nextAt(now);
    if (at <= now && this.#queue.size === 0) {
      this.#let(holder, now);
      this.#freeUntil = this.seq + this.#room(now);
      return undefined;
    }
    return this.#wait(holder, now, at);
  }

  /** What an answer said about the attempt numbered `attemptSeq`. */
  learn(news: Observations, attemptSeq: number, now: number): void {
    for (let i = 0; i < news.count; i += 1) {
      const o = news.items[i] as Observations['items'][number];
      let window = this.#window(o.name);
      if (!window) {
        if (this.windows.length >= MAX_OBSERVATIONS) continue;
        window = new Window(o.name, o.unit, o.refill);
        this.windows.push(window);
      }
      window.observe(o, attemptSeq, this.seq, now);
    }
    if (news.retryAfterMs >= 0) {
      this.blockedUntil = Math.max(
        this.blockedUntil,
        now + Math.min(news.retryAfterMs, LEARNED_REFUSAL_CAP_MS),
      );
    }
    this.learnedAt = now;
    this.#freeUntil = this.seq;
    if (this.#queue.size > 0) this.#release();
  }

  /** Refuses every waiting request (shutdown). */
  close(): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const now = this.#policy.now();
    for (let w = this.#queue.oldest; w; w = this.#queue.oldest) this.#refuse(w, now);
  }

  /** Nothing waits and nothing was heard or sent for a while: the entry may be dropped. */
  idle(now: number): boolean {
    return this.#queue.size === 0 && now - Math.max(this.#usedAt, this.learnedAt) > LEARNED_REFUSAL_CAP_MS;
  }

  /** Requests every quota has room for now, none while blocked or paced; at most FREE_RUN. */
  #room(now: number): number {
    if (this.blockedUntil > now) return 0;
    let room = FREE_RUN;
    for (const window of this.windows) room = Math.min(room, window.room(now, this.seq));
    return room;
  }

  #window(name: string): Window | undefined {
    for (const window of this.windows) if (window.name === name) return window;
    return undefined;
  }

  #let(holder: BudgetHolder, now: number): void {
    for (const window of this.windows) window.admitted(now, this.seq);
    this.seq += 1;
    holder.budgetSeq = this.seq;
    this.#usedAt = now;
  }

  #wait(holder: BudgetHolder, now: number, at: number): Promise<void> {
    // Hung up already (during the Vault read or a refresh): its 'abort' has fired, so a
    // queued turn would never hear it and would spend a scarce request and a fair share.
    if (holder.callerGone?.aborted) {
      this.#policy.waited(0, 'gone');
      throw new KeygateError('client_closed_request');
    }
    this.#noteBlocker(at, now);
    if (at - now > this.#policy.maxWaitMs || this.#queue.size >= MAX_WAITING) {
      this.#policy.refused();
      throw this.#refusal(at, now);
    }
    const waiting = new Waiting(this.#policy.fairShare ? (holder.caller?.id ?? '') : '', now, holder);
    const promise = new Promise<void>((resolve, reject) => {
      waiting.resolve = resolve;
      waiting.reject = reject;
    });
    const gone = holder.callerGone;
    if (gone) {
      waiting.signal = gone.signal;
      waiting.onAbort = () => this.#gone(waiting);
      waiting.signal.addEventListener('abort', waiting.onAbort, { once: true });
    }
    this.#queue.push(waiting);
    // Room now but others were first: the queue is served from the timer, in their order.
    this.#arm(at <= now ? now : at, now);
    return promise;
  }

  /** Serves whoever can go now in turn, refuses whoever waited too long, re-arms the timer. */
  #release(): void {
    const now = this.#policy.now();
    let at = now;
    while (this.#queue.size > 0) {
      at = this.nextAt(now);
      if (at > now) {
        this.#noteBlocker(at, now);
        break;
      }
      const waiting = this.#queue.shift() as Waiting;
      this.#let(waiting.holder, now);
      waiting.done();
      this.#policy.waited(now - waiting.since, 'admitted');
      waiting.resolve();
    }
    const deadline = this.#policy.maxWaitMs;
    for (let w = this.#queue.oldest; w && w.since + deadline <= now; w = this.#queue.oldest) {
      this.#policy.refused();
      this.#refuse(w, now);
    }
    if (this.#queue.size > 0) this.#arm(at, now);
  }

  #arm(at: number, now: number): void {
    const oldest = this.#queue.oldest;
    const next = Math.min(at, oldest ? oldest.since + this.#policy.maxWaitMs : Infinity);
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = setTimeout(this.#onTimer, Math.max(0, Math.ceil(next - now)));
    this.#timer.unref();
  }

  #refuse(waiting: Waiting, now: number): void {
    this.#queue.remove(waiting);
    waiting.done();
    this.#policy.waited(now - waiting.since, 'refused');
    waiting.reject(this.#refusal(this.nextAt(now), now));
  }

  #gone(waiting: Waiting): void {
    this.#queue.remove(waiting);
    const now = this.#policy.now();
    this.#policy.waited(now - waiting.since, 'gone');
    waiting.reject(new KeygateError('client_closed_request'));
    if (this.#queue.size > 0) this.#arm(now, now);
    else if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
  }

  /** Marks the quota a request waits on, and says when one is spent (not merely paced). */
  #noteBlocker(at: number, now: number): void {
    const quota = this.#blocker;
    if (quota) quota.pressed = true;
    if (now < this.#noticeUntil) return;
    if (quota && !quota.exhausted(now, this.seq)) return;
    // A window's reset, a bucket's time to full, or the end of the Retry-After.
    const resetAt = quota ? (Number.isFinite(quota.resetAt) ? quota.resetAt : at) : this.blockedUntil;
    this.#noticeUntil = Number.isFinite(resetAt) ? resetAt : now + LEARNED_REFUSAL_CAP_MS;
    this.#policy.exhausted(this, quota, resetAt);
  }

  #refusal(at: number, now: number): KeygateError {
    const quota = this.#blocker;
    return budgetExhausted({
      name: quota?.name ?? 'upstream',
      quota: quota?.limit ?? NaN,
      windowSeconds: (quota?.periodMs ?? NaN) / 1000,
      unit: quota?.unit,
      resetSeconds: retrySeconds(at - now, this.#policy.maxWaitMs),
    });
  }
}
