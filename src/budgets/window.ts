import { BUCKET, WINDOW, type Observation, type Refill } from './observations.ts';

/**
 * A learned refusal never lasts longer than this: once a quota has said "nothing left"
 * and nothing newer was heard for this long, one request goes through to find out.
 */
export const LEARNED_REFUSAL_CAP_MS = 5 * 60_000;
/** A quota spent without a reset said (an IETF `r=0` without `t` or `w`): probed this often. */
export const UNKNOWN_RESET_PROBE_MS = 1000;
/** A bucket whose refill no answer has revealed yet is taken to refill its limit per minute (RPM, TPM). */
const DEFAULT_BUCKET_PERIOD_MS = 60_000;
/** Weight of the newest sample in a non-request unit's cost per request (an exponential mean). */
const COST_WEIGHT = 0.2;
/** A window ending with at most this share of its limit unspent, with requests kept waiting, was contended. */
const CONTENDED_SHARE = 0.1;

/**
 * One quota of one credential as Keygate knows it: the provider's last word (`remaining`
 * after the attempt numbered `basisSeq`, said at `basisAt`) minus what Keygate has let
 * through since, plus what the quota got back in the meantime — all at once at the reset
 * (WINDOW) or steadily until full (BUCKET).
 *
 * Attempts are numbered as they are admitted; an answer about attempt n is news about the
 * provider's count just after n reached it, so whatever was admitted after n is still to
 * be taken off, and an answer about an attempt older than the basis is old news and
 * ignored. Whatever order answers come back in, the freshest word wins.
 */
export class Window {
  readonly name: string;
  unit: string;
  refill: Refill;
  limit = NaN;
  remaining = Infinity;
  basisAt = 0;
  basisSeq = 0;
  /** The basis is a rollover of Keygate's, which already counts attempt `basisSeq`. */
  #rolled = false;
  resetAt = Infinity;
  periodMs = NaN;
  /** BUCKET: units per ms, from the last answer that showed the bucket refilling; NaN until then. */
  rate = NaN;
  /** What one admitted request is charged: 1 for requests; for other units a running mean, 0 until learned. */
  cost: number;
  /** When the last probe past a learned refusal went. */
  probedAt = 0;
  /**
   * WINDOW only: the last epoch ran out while requests waited, so this one's remainder is
   * spread over its time (one request per `left / timeLeft`) rather than spent at once by
   * whoever comes first; callers arriving later in the window then still find some.
   */
  paced = false;
  /** Something waited on this window during the current epoch. */
  pressed = false;
  #paceTokens = 1;
  #paceAt = 0;
  /** Attempts up to this number are known to have gone before the last look at the clock. */
  #lookedSeq = 0;

  constructor(name: string, unit: string, refill: Refill) {
    this.name = name;
    this.unit = unit;
    this.refill = refill;
    this.cost = unit === 'requests' ? 1 : 0;
  }

  /** What one more request needs of this quota. */
  get need(): number {
    return Math.max(1, this.cost);
  }

  /** Units left at `now`, with `seq` attempts admitted so far. */
  available(now: number, seq: number): number {
    if (this.refill === WINDOW && now >= this.resetAt) this.#roll(now, seq);
    this.#lookedSeq = seq;
    return this.#level(now) - this.cost * (seq - this.basisSeq);
  }

  /** When one more request fits (`now`: at once); Infinity when only news can tell. */
  nextAt(now: number, seq: number): number {
    const left = this.available(now, seq);
    const need = this.need;
    if (left < need) {
      let at: number;
      if (this.refill === WINDOW || Number.isNaN(this.limit)) at = this.resetAt;
      else at = now + (need - left) / this.#rate();
      // Spent with no word of when it is back: one request a second goes to find out.
      const probeEvery = Number.isFinite(at) ? LEARNED_REFUSAL_CAP_MS : UNKNOWN_RESET_PROBE_MS;
      return Math.min(at, Math.max(this.basisAt, this.probedAt) + probeEvery);
    }
    if (this.paced && Number.isFinite(this.resetAt) && Number.isFinite(left)) {
      const rate = left / Math.max(1, this.resetAt - now);
      this.#paceTokens = Math.min(1, this.#paceTokens + rate * (now - this.#paceAt));
      this.#paceAt = now;
      if (this.#paceTokens < 1) return now + (1 - this.#paceTokens) / rate;
    }
    return now;
  }

  /** How many more requests fit at `now` without pacing (Infinity for a unit not charged yet). */
  room(now: number, seq: number): number {
    if (this.paced) return 0;
    const spare = this.available(now, seq) - this.need;
    if (!(spare >= 0)) return 0;
    return this.cost > 0 ? Math.floor(spare / this.cost) + 1 : Infinity;
  }

  /** Whether what stands in the way at `now` is the quota itself (not the pacing). */
  exhausted(now: number, seq: number): boolean {
    return this.available(now, seq) < this.need;
  }

  /** An attempt is let through at `now` (call nextAt first, with the same `now` and `seq`). */
  admitted(now: number, seq: number): void {
    if (this.available(now, seq) < this.need) this.probedAt = now; // the cap let a probe through
    if (this.paced) this.#paceTokens -= 1;
    this.#lookedSeq = seq + 1;
  }

  /** What an answer about attempt `attemptSeq` said; `seq` is how many are admitted by now. */
  observe(o: Observation, attemptSeq: number, seq: number, now: number): void {
    if (attemptSeq < this.basisSeq || (attemptSeq === this.basisSeq && this.#rolled)) return;
    if (o.unit !== 'requests') this.#learnCost(o, attemptSeq, now);
    const newEpoch = this.refill === WINDOW && o.refill === WINDOW && this.#laterEpoch(o, now);
    if (newEpoch) this.#endEpoch(now, seq);
    this.unit = o.unit;
    if (o.refill !== this.refill) {
      this.refill = o.refill;
      this.rate = NaN;
    }
    if (o.unit === 'requests') this.cost = 1;
    if (!Number.isNaN(o.limit)) this.limit = o.limit;
    if (!Number.isNaN(o.periodMs)) this.periodMs = o.periodMs;
    this.remaining = o.remaining;
    this.basisAt = now;
    this.basisSeq = attemptSeq;
    this.#rolled = false;
    if (Number.isNaN(o.resetMs)) {
      // No reset said: a window is back within its period at the latest; a bucket keeps its rate.
      if (this.refill === WINDOW) this.resetAt = this.periodMs > 0 ? now + this.periodMs : Infinity;
      else this.resetAt = Infinity;
      return;
    }
    const untilReset = o.resetMs + o.resetSlackMs;
    // Each answer's reset is an upper bound (`t` rounds up); within one epoch the smallest is the best.
    const sameEpoch =
      this.refill === WINDOW && !newEpoch && Number.isFinite(this.resetAt) && now < this.resetAt;
    this.resetAt = sameEpoch ? Math.min(this.resetAt, now + untilReset) : now + untilReset;
    // How fast the bucket refills: what is missing, over the time it takes to be full.
    if (this.refill === BUCKET && this.limit > o.remaining && untilReset > 0) {
      this.rate = (this.limit - o.remaining) / untilReset;
    }
  }

  #rate(): number {
    return Number.isNaN(this.rate) ? this.limit / DEFAULT_BUCKET_PERIOD_MS : this.rate;
  }

  #level(now: number): number {
    if (this.refill === WINDOW) return this.remaining;
    if (Number.isNaN(this.limit)) return now >= this.resetAt ? Infinity : this.remaining;
    return Math.min(this.limit, this.remaining + this.#rate() * (now - this.basisAt));
  }

  /** The window's time is up: its quota is back (as much as the limit, when known). */
  #roll(now: number, seq: number): void {
    this.#endEpoch(now, seq);
    const { resetAt, periodMs } = this;
    this.remaining = Number.isNaN(this.limit) ? Infinity : this.limit;
    this.basisAt = resetAt;
    // Requests let through since the last look (a free run, see CredentialBudget.admit) may
    // have gone after the reset: they are charged to the new epoch, to be on the safe side.
    this.basisSeq = Math.min(this.#lookedSeq, seq);
    this.#rolled = true;
    this.resetAt = periodMs > 0 ? resetAt + periodMs * Math.ceil((now - resetAt + 1) / periodMs) : Infinity;
  }

  /** Decides whether the next epoch is paced: this one ran (nearly) out while requests waited. */
  #endEpoch(now: number, seq: number): void {
    const left = this.remaining - this.cost * (seq - this.basisSeq);
    const slack = Number.isNaN(this.limit) ? this.need : Math.max(this.need, this.limit * CONTENDED_SHARE);
    this.paced = this.pressed && left <= slack;
    this.pressed = false;
    this.#paceTokens = 1;
    this.#paceAt = now;
  }

  /** An answer from a later epoch than the one Keygate stands in (the provider rolled over first). */
  #laterEpoch(o: Observation, now: number): boolean {
    if (!Number.isFinite(this.resetAt) || Number.isNaN(o.resetMs)) return false;
    return now + o.resetMs > this.resetAt + 1000;
  }

  /** A non-request unit's cost per request: how far the quota fell per request admitted in between. */
  #learnCost(o: Observation, attemptSeq: number, now: number): void {
    const between = attemptSeq - this.basisSeq;
    if (between <= 0 || !Number.isFinite(this.remaining)) return;
    if (this.refill === WINDOW && now >= this.resetAt) return;
    const sample = (this.#level(now) - o.remaining) / between;
    if (!(sample >= 0) || !Number.isFinite(sample)) return;
    this.cost = this.cost > 0 ? this.cost + COST_WEIGHT * (sample - this.cost) : sample;
  }
}
