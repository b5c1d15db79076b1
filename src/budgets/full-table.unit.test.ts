import { describe, expect, it } from 'vitest';
import { Budgets } from './budgets.ts';
import { LEARNED_REFUSAL_CAP_MS } from './window.ts';

/**
 * Past `maxCredentials`, idle budgets are swept before a new credential is tracked. The
 * sweep walks every entry, so a full table of busy credentials is swept at most once a
 * second: a burst of new credentials in between goes untracked at once (found in review:
 * each request walked 100,000 entries).
 */
describe('a full budget table', () => {
  it('is swept at most once a second, and tracks again once a sweep makes room', () => {
    let now = 0;
    const budgets = new Budgets({
      integrations: { crm: { budget: { headers: 'ietf', maxWaitMs: 1000, fairShare: true } } },
      now: () => now,
      maxCredentials: 2,
    });
    const answer = { ratelimit: '"w";r=50;t=60', 'ratelimit-policy': '"w";q=100;w=60' };
    const heard = (account: string) =>
      budgets.learn({ tenant: 't', integration: 'crm', account }, 200, answer);
    const tracked = () => budgets.list().map((view) => view.account);

    heard('a');
    heard('b');
    now = LEARNED_REFUSAL_CAP_MS; // a and b not idle yet: the sweep frees nothing
    heard('c');
    expect(tracked()).toEqual(['a', 'b']);

    now = LEARNED_REFUSAL_CAP_MS + 1; // a and b idle now, but the last sweep was 1 ms ago
    heard('d');
    expect(tracked()).toEqual(['a', 'b']);

    now = LEARNED_REFUSAL_CAP_MS + 1000;
    heard('e');
    expect(tracked()).toEqual(['e']);
  });
});
