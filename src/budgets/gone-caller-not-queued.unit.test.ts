import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { credentialRef } from '../credentials/ref.ts';
import { isKeygateError } from '../errors.ts';
import { CredentialBudget, type BudgetHolder, type BudgetPolicy } from './credential-budget.ts';
import { Observations } from './observations.ts';
import { parserFor } from './parse.ts';

/**
 * A request whose caller hung up before `admit` (during the slow path's Vault read or a
 * refresh) has an aborted signal whose 'abort' already fired: queued, it would wait out its
 * turn, be admitted against the scarce budget and take a fair share before the upstream
 * exchange noticed. It is refused at once instead (found in review).
 */
describe('a caller that is gone before its turn', () => {
  beforeEach(() => void vi.useFakeTimers({ now: 0 }));
  afterEach(() => void vi.useRealTimers());

  it('is not queued, and takes nothing of the budget', async () => {
    const policy: BudgetPolicy = {
      maxWaitMs: 1000,
      fairShare: true,
      exhausted: () => {},
      refused: () => {},
      waited: () => {},
      now: () => Date.now(),
    };
    const budget = new CredentialBudget(credentialRef('t', 'i'), policy);
    const news = new Observations();
    parserFor('auto').read(429, { 'retry-after': '0.5' }, news, 0);
    budget.learn(news, 0, 0);

    const gone: BudgetHolder = {
      tenant: 't',
      integration: 'i',
      account: 'default',
      caller: { id: 'k' },
      callerGone: { aborted: true, signal: AbortSignal.abort() },
    };
    let outcome: unknown = 'pending';
    try {
      const turn = budget.admit(gone, () => Date.now());
      turn?.then(
        () => (outcome = 'admitted'),
        (err: unknown) => (outcome = err),
      );
    } catch (err) {
      outcome = err;
    }
    await vi.advanceTimersByTimeAsync(600); // past the Retry-After
    expect(isKeygateError(outcome, 'client_closed_request')).toBe(true);
    expect(budget.seq).toBe(0);
  });
});
