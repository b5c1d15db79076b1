import type { CredentialRef } from '../credentials/ref.ts';
import type { CredentialBudget } from './credential-budget.ts';
import { BUCKET } from './observations.ts';

/** One quota as the console and GET /v1/budgets show it. */
export interface QuotaView {
  name: string;
  unit: string;
  refill: 'window' | 'bucket';
  limit: number | null;
  /** Keygate's estimate now: the provider's last word, less what went since, plus what came back. */
  remaining: number | null;
  resetAt: string | null;
  /** Its last epoch ran out with requests waiting, so this one is spread over its time. */
  paced: boolean;
}

/** One credential's learned budget on this replica; never a secret (names and counts only). */
export interface BudgetView extends CredentialRef {
  quotas: QuotaView[];
  /** The end of a 429's or 503's Retry-After, while it lasts. */
  blockedUntil: string | null;
  /** Requests waiting now. */
  waiting: number;
  learnedAt: string | null;
}

const iso = (ms: number) => (Number.isFinite(ms) && ms > 0 ? new Date(ms).toISOString() : null);
const count = (n: number) => (Number.isFinite(n) ? Math.max(0, Math.floor(n)) : null);

/** What is known of a budget now; undefined when nothing was learned (and nothing waits). */
export function budgetView(budget: CredentialBudget, now: number): BudgetView | undefined {
  if (budget.windows.length === 0 && budget.blockedUntil <= now && budget.waiting === 0) return undefined;
  return {
    ...budget.ref,
    quotas: budget.windows.map((w) => ({
      name: w.name,
      unit: w.unit,
      refill: w.refill === BUCKET ? 'bucket' : 'window',
      limit: Number.isNaN(w.limit) ? null : w.limit,
      remaining: count(w.available(now, budget.seq)),
      resetAt: iso(w.resetAt),
      paced: w.paced,
    })),
    blockedUntil: budget.blockedUntil > now ? iso(budget.blockedUntil) : null,
    waiting: budget.waiting,
    learnedAt: iso(budget.learnedAt),
  };
}
