import { Type, type Static } from '@sinclair/typebox';

// The same rule as NAME_PATTERN in schema.ts, which imports this file (so it cannot be imported here).
const TENANT_NAME = '^[a-z0-9][a-z0-9_-]{0,62}$';
const Strict = { additionalProperties: false } as const;

/** Which rate-limit headers of an integration's answers Keygate learns from (docs/budgets.md). */
export const BUDGET_HEADERS = ['auto', 'openai', 'anthropic', 'ietf', 'none'] as const;
export type BudgetHeaders = (typeof BUDGET_HEADERS)[number];

/**
 * `integrations.NAME.budget`: learn the provider's rate limit for each credential from
 * its answers and hold or answer the excess before the provider has to say 429. No
 * `budget`: nothing is learned. Every field is optional (defaults in BUDGET_DEFAULTS):
 * the integrations record is not defaulted field by field, so defaults are applied by
 * `budgetOf`.
 */
export const BudgetSchema = Type.Object(
  {
    /** Default `auto`: every family Keygate knows. */
    headers: Type.Optional(Type.Union(BUDGET_HEADERS.map((h) => Type.Literal(h)))),
    /** A request finding the budget spent waits up to this long, then gets 429 upstream_budget_exhausted. */
    maxWaitMs: Type.Optional(Type.Integer({ minimum: 0, maximum: 600_000 })),
    /** While the budget is scarce, its callers take turns (max-min fair shares); false: first come, first served. */
    fairShare: Type.Optional(Type.Boolean()),
  },
  Strict,
);

export const BUDGET_DEFAULTS = { headers: 'auto', maxWaitMs: 10_000, fairShare: true } as const;

export interface ResolvedBudget {
  headers: Exclude<BudgetHeaders, 'none'>;
  maxWaitMs: number;
  fairShare: boolean;
}

/** An integration's budget with the defaults filled in; undefined when it learns nothing. */
export function budgetOf(integration: { budget?: BudgetConfig | undefined }): ResolvedBudget | undefined {
  const budget = integration.budget;
  if (budget === undefined) return undefined;
  const headers = budget.headers ?? BUDGET_DEFAULTS.headers;
  if (headers === 'none') return undefined;
  return {
    headers,
    maxWaitMs: budget.maxWaitMs ?? BUDGET_DEFAULTS.maxWaitMs,
    fairShare: budget.fairShare ?? BUDGET_DEFAULTS.fairShare,
  };
}

/** Keygate's own limits on a caller or a tenant, per replica (docs/budgets.md#own-limits). */
export const LimitsSchema = Type.Object(
  {
    requestsPerMinute: Type.Optional(Type.Integer({ minimum: 1, maximum: 10_000_000 })),
  },
  Strict,
);

/** `tenants.NAME`: settings of one tenant. */
export const TenantSchema = Type.Object({ limits: Type.Optional(LimitsSchema) }, Strict);

/** `tenants`: settings per tenant name; a name that is not one is an error (not silently ignored). */
export const TenantsSchema = Type.Record(Type.String({ pattern: TENANT_NAME }), TenantSchema, {
  default: {},
  additionalProperties: false,
});

export type BudgetConfig = Static<typeof BudgetSchema>;
export type LimitsConfig = Static<typeof LimitsSchema>;
export type TenantsConfig = Static<typeof TenantsSchema>;
