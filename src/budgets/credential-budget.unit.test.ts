import type { IncomingHttpHeaders } from 'node:http';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { credentialRef } from '../credentials/ref.ts';
import { isKeygateError } from '../errors.ts';
import { CredentialBudget, type BudgetHolder, type BudgetPolicy } from './credential-budget.ts';
import { Observations } from './observations.ts';
import { parserFor } from './parse.ts';

/**
 * A provider with a fixed window per credential, as the IETF fields describe one: `limit`
 * requests per `windowMs`, answered after `latencyMs`; past the limit, 429.
 */
class WindowProvider {
  served = 0;
  refusedAfterFirstWindow = 0;
  readonly limit: number;
  readonly windowMs: number;
  #start = 0;
  #used = 0;

  constructor(limit: number, windowMs: number) {
    this.limit = limit;
    this.windowMs = windowMs;
  }

  answer(now: number): { status: number; headers: IncomingHttpHeaders } {
    if (now >= this.#start + this.windowMs) {
      this.#start = now - (now % this.windowMs);
      this.#used = 0;
    }
    const t = Math.ceil((this.#start + this.windowMs - now) / 1000);
    const policy = `"w";q=${this.limit};w=${this.windowMs / 1000}`;
    if (this.#used >= this.limit) {
      if (now >= this.windowMs) this.refusedAfterFirstWindow += 1;
      return {
        status: 429,
        headers: { ratelimit: `"w";r=0;t=${t}`, 'ratelimit-policy': policy, 'retry-after': String(t) },
      };
    }
    this.#used += 1;
    this.served += 1;
    return {
      status: 200,
      headers: { ratelimit: `"w";r=${this.limit - this.#used};t=${t}`, 'ratelimit-policy': policy },
    };
  }
}

function policy(maxWaitMs: number, fairShare = true) {
  const events: number[] = [];
  const p: BudgetPolicy & { events: number[]; refusals: number } = {
    maxWaitMs,
    fairShare,
    events,
    refusals: 0,
    exhausted: (_b, _q, resetAt) => void events.push(resetAt),
    refused: () => void (p.refusals += 1),
    waited: () => {},
    now: () => Date.now(),
  };
  return p;
}

describe('CredentialBudget', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 0 }));
  afterEach(() => void vi.useRealTimers());

  const holder = (caller: string): BudgetHolder => ({
    tenant: 't',
    integration: 'i',
    account: 'default',
    caller: { id: caller },
  });
  const ref = credentialRef('t', 'i');

  it('lets requests go at once while nothing is learned, and counts them', () => {
    const budget = new CredentialBudget(ref, policy(1000));
    const h = holder('k');
    expect(budget.admit(h, () => 0)).toBeUndefined();
    expect(budget.admit(h, () => 0)).toBeUndefined();
    expect(h.budgetSeq).toBe(2);
  });

  it('counts a run of requests without looking, and charges those that may straddle a reset to the new window', () => {
    const budget = new CredentialBudget(ref, policy(1000));
    const news = new Observations();
    parserFor('ietf').read(200, { ratelimit: '"w";r=20;t=1', 'ratelimit-policy': '"w";q=20;w=1' }, news, 0);
    budget.learn(news, 0, 0);
    let looks = 0;
    const clock = (t: number) => () => {
      looks += 1;
      return t;
    };
    for (let i = 0; i < 11; i += 1) expect(budget.admit(holder('k'), clock(0))).toBeUndefined();
    expect(looks).toBe(1); // one look, then a free run
    // The window reset at 1000 ms; when the ten requests went is not known, so they count in the new one.
    expect(budget.admit(holder('k'), clock(1000))).toBeUndefined();
    expect(budget.windows[0]?.available(1000, budget.seq)).toBe(20 - 11);
  });

  it('holds a request until the reset when that is within maxWaitMs, else refuses at once', async () => {
    const p = policy(1500);
    const budget = new CredentialBudget(ref, p);
    const news = new Observations();
    parserFor('ietf').read(200, { ratelimit: '"w";r=0;t=1', 'ratelimit-policy': '"w";q=5;w=1' }, news, 0);
    const h = holder('k');
    budget.admit(h, () => 0);
    budget.learn(news, h.budgetSeq as number, 0);
    const held = budget.admit(holder('k'), () => 0);
    expect(held).toBeInstanceOf(Promise);
    let done = false;
    void held?.then(() => (done = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(done).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(done).toBe(true);
    expect(p.events).toEqual([1000]); // one budget-exhausted notice for that window

    parserFor('ietf').read(200, { ratelimit: '"w";r=0;t=30' }, news, 1000);
    budget.learn(news, budget.seq, 1000);
    let refusal: unknown;
    try {
      budget.admit(holder('k'), () => 1000);
    } catch (err) {
      refusal = err;
    }
    expect(isKeygateError(refusal, 'upstream_budget_exhausted')).toBe(true);
    expect(refusal).toMatchObject({
      retryAfter: 30,
      headers: { ratelimit: '"w";r=0;t=30', 'ratelimit-policy': '"w";q=5;w=1' },
    });
    expect(p.refusals).toBe(1);
  });

  it('refuses a waiting request at maxWaitMs, and honours a 429 Retry-After (capped)', async () => {
    const p = policy(200);
    const budget = new CredentialBudget(ref, p);
    const news = new Observations();
    parserFor('auto').read(429, { 'retry-after': '0.5' }, news, 0);
    budget.learn(news, 0, 0);
    expect(budget.blockedUntil).toBe(500);
    await expect(() => budget.admit(holder('k'), () => 0)).toThrow(/spent/); // 500 ms > 200 ms: at once
    parserFor('auto').read(429, { 'retry-after': '86400' }, news, 0);
    budget.learn(news, 0, 0);
    expect(budget.blockedUntil).toBe(5 * 60_000); // capped
  });

  it('lets a waiting request go when the caller hangs up, without counting it', async () => {
    const budget = new CredentialBudget(ref, policy(5000));
    const news = new Observations();
    parserFor('ietf').read(200, { ratelimit: '"w";r=0;t=2' }, news, 0);
    budget.learn(news, 0, 0);
    const controller = new AbortController();
    const h: BudgetHolder = {
      ...holder('k'),
      callerGone: {
        get aborted() {
          return controller.signal.aborted;
        },
        signal: controller.signal,
      },
    };
    const held = budget.admit(h, () => 0) as Promise<void>;
    controller.abort();
    await expect(held).rejects.toMatchObject({ code: 'client_closed_request' });
    expect(budget.waiting).toBe(0);
    expect(budget.seq).toBe(0);
  });

  /**
   * One greedy caller (40 requests always outstanding) and two light ones (one request
   * every 500 ms each) share a credential whose provider allows 20 requests per 2 s
   * window. After the first window the provider never says 429, the light callers get
   * everything they ask, and the greedy one the rest.
   */
  it.each([true, false])('shares a scarce budget max-min fairly (fairShare: %s)', async (fairShare) => {
    const provider = new WindowProvider(20, 2000);
    const budget = new CredentialBudget(ref, policy(3000, fairShare));
    const served = new Map<string, { asked: number; got: number }>();
    const news = new Observations();
    let running = true;
    const call = async (caller: string) => {
      const tally = served.get(caller) ?? { asked: 0, got: 0 };
      served.set(caller, tally);
      tally.asked += 1;
      const h = holder(caller);
      try {
        const turn = budget.admit(h, () => Date.now());
        if (turn) await turn;
      } catch {
        await vi.advanceTimersByTimeAsync(0);
        return;
      }
      await new Promise((r) => setTimeout(r, 30)); // the provider's latency
      const { status, headers } = provider.answer(Date.now());
      parserFor('ietf').read(status, headers, news, Date.now());
      budget.learn(news, h.budgetSeq as number, Date.now());
      if (status === 200) tally.got += 1;
    };
    const greedy = async () => {
      while (running) {
        await call('greedy');
        await new Promise((r) => setTimeout(r, 1));
      }
    };
    const light = async (name: string, offset: number) => {
      await new Promise((r) => setTimeout(r, offset));
      while (running) {
        void call(name);
        await new Promise((r) => setTimeout(r, 500));
      }
    };
    const loops = [...Array.from({ length: 40 }, greedy), light('light-a', 0), light('light-b', 250)];
    await vi.advanceTimersByTimeAsync(20_000);
    running = false;
    await vi.advanceTimersByTimeAsync(5000);
    await Promise.all(loops);

    expect(provider.refusedAfterFirstWindow).toBe(0);
    const a = served.get('light-a') as { asked: number; got: number };
    const b = served.get('light-b') as { asked: number; got: number };
    const g = served.get('greedy') as { asked: number; got: number };
    if (fairShare) {
      expect(a.got / a.asked).toBeGreaterThanOrEqual(0.9);
      expect(b.got / b.asked).toBeGreaterThanOrEqual(0.9);
    }
    // The provider allowed 20 per 2 s for about 22 s: the greedy caller got what was left.
    expect(provider.served).toBeGreaterThanOrEqual(20 * 10);
    expect(g.got).toBeGreaterThanOrEqual(provider.served - a.got - b.got);
  });
});
