import { describe, expect, it } from 'vitest';
import { BUCKET, WINDOW, type Observation, type Refill } from './observations.ts';
import { LEARNED_REFUSAL_CAP_MS, Window } from './window.ts';

function said(o: Partial<Observation> & { remaining: number; refill: Refill }): Observation {
  return {
    name: 'requests',
    unit: 'requests',
    limit: NaN,
    resetMs: NaN,
    resetSlackMs: 0,
    periodMs: NaN,
    ...o,
  };
}

/** Admits one request at `now` the way CredentialBudget does; answers the attempt's number. */
function admit(w: Window, now: number, seq: { n: number }): number {
  expect(w.nextAt(now, seq.n)).toBeLessThanOrEqual(now);
  w.admitted(now, seq.n);
  seq.n += 1;
  return seq.n;
}

describe('a WINDOW quota (IETF)', () => {
  it('takes off what was admitted since the answer, and is back at the reset', () => {
    const w = new Window('requests', 'requests', WINDOW);
    const seq = { n: 0 };
    const first = admit(w, 0, seq);
    w.observe(said({ refill: WINDOW, limit: 5, remaining: 2, resetMs: 1000 }), first, seq.n, 10);
    admit(w, 20, seq);
    admit(w, 30, seq);
    expect(w.available(40, seq.n)).toBe(0);
    expect(w.nextAt(40, seq.n)).toBe(1010);
    expect(w.available(1010, seq.n)).toBe(5);
  });

  it('counts answers in any order: old news is ignored', () => {
    const w = new Window('requests', 'requests', WINDOW);
    const seq = { n: 0 };
    const a = admit(w, 0, seq);
    const b = admit(w, 0, seq);
    const c = admit(w, 0, seq);
    // The provider counted a, b, c in that order; b's answer comes back first.
    w.observe(said({ refill: WINDOW, limit: 10, remaining: 8, resetMs: 1000 }), b, seq.n, 5);
    expect(w.available(5, seq.n)).toBe(7); // c is still to be taken off
    w.observe(said({ refill: WINDOW, limit: 10, remaining: 9, resetMs: 1000 }), a, seq.n, 6);
    expect(w.available(6, seq.n)).toBe(7); // a's answer is older than b's: ignored
    w.observe(said({ refill: WINDOW, limit: 10, remaining: 7, resetMs: 1000 }), c, seq.n, 7);
    expect(w.available(7, seq.n)).toBe(7);
  });

  it('never refuses longer than the cap: one probe goes, then the cap runs again', () => {
    const w = new Window('daily', 'requests', WINDOW);
    const seq = { n: 0 };
    w.observe(said({ refill: WINDOW, limit: 100, remaining: 0, resetMs: 20 * 3_600_000 }), 0, 0, 0);
    expect(w.nextAt(1, 0)).toBe(LEARNED_REFUSAL_CAP_MS);
    admit(w, LEARNED_REFUSAL_CAP_MS, seq); // the probe
    expect(w.nextAt(LEARNED_REFUSAL_CAP_MS + 1, seq.n)).toBe(2 * LEARNED_REFUSAL_CAP_MS);
  });

  it('probes once a second a quota spent with no word of when it is back', () => {
    const w = new Window('default', 'requests', WINDOW);
    w.observe(said({ refill: WINDOW, remaining: 0 }), 1, 1, 0);
    expect(w.nextAt(10, 1)).toBe(1000);
    w.admitted(1000, 1); // the probe
    expect(w.nextAt(1000, 2)).toBe(2000);
  });

  it('paces the next epoch when this one ran out with requests waiting', () => {
    const w = new Window('requests', 'requests', WINDOW);
    const seq = { n: 0 };
    w.observe(said({ refill: WINDOW, limit: 10, remaining: 0, resetMs: 1000, periodMs: 1000 }), 0, 0, 0);
    w.pressed = true; // a request waited on it
    expect(w.nextAt(500, 0)).toBe(1000);
    // Epoch 2: 10 requests over 1000 ms, the first at once, then about one per 100 ms.
    admit(w, 1000, seq);
    expect(w.paced).toBe(true);
    const next = w.nextAt(1000, seq.n);
    expect(next).toBeGreaterThan(1090);
    expect(next).toBeLessThan(1120);
    // Demand fell: nothing waited in epoch 2, so epoch 3 is not paced.
    expect(w.available(2000, seq.n)).toBe(10);
    expect(w.paced).toBe(false);
    admit(w, 2000, seq);
    admit(w, 2000, seq);
  });
});

describe('a BUCKET quota (OpenAI, Anthropic)', () => {
  it('refills steadily at the rate its reset implies', () => {
    const w = new Window('requests', 'requests', BUCKET);
    w.observe(said({ refill: BUCKET, limit: 60, remaining: 0, resetMs: 60_000 }), 1, 1, 0);
    expect(w.available(0, 1)).toBe(0);
    expect(w.nextAt(0, 1)).toBe(1000);
    expect(w.available(30_000, 1)).toBe(30);
    expect(w.available(120_000, 1)).toBe(60);
  });

  it('is generous by nothing: a coarse reset refills slower, not faster', () => {
    const w = new Window('requests', 'requests', BUCKET);
    w.observe(
      said({ refill: BUCKET, limit: 50, remaining: 0, resetMs: 59_000, resetSlackMs: 1000 }),
      1,
      1,
      0,
    );
    expect(w.rate).toBeCloseTo(50 / 60_000);
  });

  it('assumes a per-minute bucket until an answer shows it refilling', () => {
    const w = new Window('requests', 'requests', BUCKET);
    w.observe(said({ refill: BUCKET, limit: 600, remaining: 600, resetMs: 0 }), 1, 1, 0);
    const seq = { n: 1 };
    for (let i = 0; i < 600; i += 1) admit(w, 0, seq);
    expect(w.nextAt(0, seq.n)).toBe(100); // 600 per minute: one per 100 ms
  });
});

describe('a non-request quota (tokens)', () => {
  it('gates only once spent, charging each request what the quota fell per request', () => {
    const w = new Window('tokens', 'tokens', BUCKET);
    w.observe(
      said({ unit: 'tokens', refill: BUCKET, limit: 100_000, remaining: 100_000, resetMs: 0 }),
      1,
      1,
      0,
    );
    expect(w.cost).toBe(0);
    // Four requests later the provider says 8000 fewer: 2000 per request.
    w.observe(
      said({ unit: 'tokens', refill: BUCKET, limit: 100_000, remaining: 92_000, resetMs: 4800 }),
      5,
      5,
      0,
    );
    expect(w.cost).toBeCloseTo(2000);
    w.observe(
      said({ unit: 'tokens', refill: BUCKET, limit: 100_000, remaining: 1500, resetMs: 59_000 }),
      6,
      6,
      0,
    );
    expect(w.exhausted(0, 6)).toBe(true); // 1500 left, about 2000 needed
  });
});
