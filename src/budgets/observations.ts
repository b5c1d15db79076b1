/** A quota that comes back all at once at its reset (a fixed window: the IETF fields). */
export const WINDOW = 0;
/** A quota that refills steadily until it is full at its reset (a token bucket: OpenAI, Anthropic). */
export const BUCKET = 1;
export type Refill = typeof WINDOW | typeof BUCKET;

/** One quota as one answer reports it. Parsers fill reused instances (Observations), so keep no reference. */
export interface Observation {
  /** Which quota: `requests`, `tokens`, `input-tokens`, `output-tokens`, or an IETF policy's name. */
  name: string;
  /** What it counts: `requests` gates every request; any other unit only once it runs out (docs/budgets.md). */
  unit: string;
  refill: Refill;
  /** The quota per period; NaN when the answer does not say. */
  limit: number;
  remaining: number;
  /** Milliseconds from the answer until the reset (bucket: until full); NaN when not said. */
  resetMs: number;
  /** How coarse the reset is (a timestamp in whole seconds: 1000); added to be on the safe side. */
  resetSlackMs: number;
  /** The policy's window (IETF `w`), NaN when not said. */
  periodMs: number;
}

/** More quotas than this in one answer are ignored (a provider sends two to four). */
export const MAX_OBSERVATIONS = 8;

/**
 * What one answer said, written into instances made once: parsing an answer that carries
 * no rate-limit header allocates nothing, and one that does allocates only what the
 * header values themselves need.
 */
export class Observations {
  readonly items: Observation[] = Array.from({ length: MAX_OBSERVATIONS }, () => ({
    name: '',
    unit: 'requests',
    refill: WINDOW,
    limit: NaN,
    remaining: NaN,
    resetMs: NaN,
    resetSlackMs: 0,
    periodMs: NaN,
  }));
  count = 0;
  /** Retry-After of a 429 or 503, in ms; NaN when absent or unreadable. */
  retryAfterMs = NaN;

  clear(): void {
    this.count = 0;
    this.retryAfterMs = NaN;
  }

  /** The next free instance, reset; undefined when MAX_OBSERVATIONS are taken. */
  add(name: string, unit: string, refill: Refill): Observation | undefined {
    if (this.count >= MAX_OBSERVATIONS) return undefined;
    const o = this.items[this.count] as Observation;
    this.count += 1;
    o.name = name;
    o.unit = unit;
    o.refill = refill;
    o.limit = NaN;
    o.remaining = NaN;
    o.resetMs = NaN;
    o.resetSlackMs = 0;
    o.periodMs = NaN;
    return o;
  }

  /** Drops the last instance taken (it turned out unusable). */
  drop(): void {
    this.count -= 1;
  }
}
