import type { IncomingHttpHeaders } from 'node:http';
import type { Registry } from 'prom-client';
import { budgetOf, type ResolvedBudget } from '../config/budgets.ts';
import type { IntegrationConfig } from '../config/schema.ts';
import { credentialRef } from '../credentials/ref.ts';
import type { EventPublisher } from '../events/bus.ts';
import { CredentialBudget, type BudgetHolder, type BudgetPolicy } from './credential-budget.ts';
import { BudgetMetrics, type IntegrationMetrics } from './metrics.ts';
import { Observations } from './observations.ts';
import { parserFor, type HeaderParser } from './parse.ts';
import { budgetView, type BudgetView } from './view.ts';
import type { Window } from './window.ts';

/** Credentials tracked per replica; past it, idle ones are dropped, then new ones go untracked. */
const MAX_CREDENTIALS = 100_000;

/**
 * A full table is swept for idle entries at most this often: between sweeps new
 * credentials go untracked at once instead of each walking every entry.
 */
const SWEEP_EVERY_MS = 1000;

export interface BudgetsOptions {
  /** This replica's name (events' `replica`), shown with the budgets it learned. */
  replica?: string | undefined;
  integrations: Readonly<Record<string, Pick<IntegrationConfig, 'budget'>>>;
  events?: EventPublisher | undefined;
  registry?: Registry | undefined;
  now?: () => number;
  /** Credentials tracked at once (tests make it small). */
  maxCredentials?: number;
}

/** One integration's settings, parser, metrics, and its credentials' budgets (tenant → account → budget). */
class IntegrationBudgets implements BudgetPolicy {
  readonly name: string;
  readonly maxWaitMs: number;
  readonly fairShare: boolean;
  readonly parse: HeaderParser;
  readonly tenants = new Map<string, Map<string, CredentialBudget>>();
  readonly #metrics: IntegrationMetrics | undefined;
  readonly #events: EventPublisher | undefined;
  readonly now: () => number;

  constructor(
    name: string,
    settings: ResolvedBudget,
    metrics: IntegrationMetrics | undefined,
    events: EventPublisher | undefined,
    now: () => number,
  ) {
    this.name = name;
    this.maxWaitMs = settings.maxWaitMs;
    this.fairShare = settings.fairShare;
    this.parse = parserFor(settings.headers);
    this.#metrics = metrics;
    this.#events = events;
    this.now = now;
  }

  find(tenant: string, account: string): CredentialBudget | undefined {
    return this.tenants.get(tenant)?.get(account);
  }

  refused(): void {
    this.#metrics?.refused();
  }

  waited(ms: number, outcome: 'admitted' | 'refused' | 'gone'): void {
    this.#metrics?.waited(ms, outcome);
  }

  exhausted(budget: CredentialBudget, quota: Window | undefined, resetAt: number): void {
    this.#events?.publish('budget-exhausted', {
      ...budget.ref,
      quota: quota?.name ?? 'retry-after',
      limit: quota === undefined || Number.isNaN(quota.limit) ? undefined : quota.limit,
      resetAt: Number.isFinite(resetAt) ? new Date(resetAt).toISOString() : undefined,
    });
  }
}

/**
 * Every credential's upstream budget on this replica (in memory; docs/budgets.md). The
 * proxy calls `admit` before each upstream attempt and `learn` with each answer's status
 * and headers. Integrations without `budget` cost one map lookup per call.
 */
export class Budgets {
  readonly replica: string;
  readonly #integrations = new Map<string, IntegrationBudgets>();
  readonly #news = new Observations();
  readonly #now: () => number;
  readonly #max: number;
  #count = 0;
  #sweptAt = -Infinity;

  constructor({
    replica = '',
    integrations,
    events,
    registry,
    now = Date.now,
    maxCredentials = MAX_CREDENTIALS,
  }: BudgetsOptions) {
    this.replica = replica;
    this.#now = now;
    this.#max = maxCredentials;
    const metrics = registry && new BudgetMetrics(registry, () => this.#waitingByIntegration());
    for (const [name, integration] of Object.entries(integrations)) {
      const settings = budgetOf(integration);
      if (!settings) continue;
      this.#integrations.set(
        name,
        new IntegrationBudgets(name, settings, metrics?.for(name), events, this.#now),
      );
    }
  }

  /**
   * Before an upstream attempt: undefined when it may go now (the common case: nothing is
   * allocated), a promise when it must wait its turn. Throws (or the promise rejects with)
   * 429 upstream_budget_exhausted.
   */
  admit(holder: BudgetHolder): Promise<void> | undefined {
    const integration = this.#integrations.get(holder.integration);
    if (integration === undefined) return undefined;
    const budget = integration.find(holder.tenant, holder.account) ?? this.#track(integration, holder);
    return budget?.admit(holder, this.#now);
  }

  /** After an upstream answer's head arrived: what it says about the credential's rate limit. */
  learn(holder: BudgetHolder, status: number, headers: IncomingHttpHeaders): void {
    const integration = this.#integrations.get(holder.integration);
    if (integration === undefined) return;
    if (!integration.parse.has(status, headers)) return;
    const news = this.#news;
    const now = this.#now();
    integration.parse.read(status, headers, news, now);
    if (news.count === 0 && Number.isNaN(news.retryAfterMs)) return;
    const budget = integration.find(holder.tenant, holder.account) ?? this.#track(integration, holder);
    budget?.learn(news, holder.budgetSeq ?? budget.seq, now);
  }

  /** This replica's learned budgets, for the console and GET /v1/budgets. */
  list(filter: { tenant?: string | undefined; integration?: string | undefined } = {}): BudgetView[] {
    const now = this.#now();
    const views: BudgetView[] = [];
    for (const integration of this.#integrations.values()) {
      if (filter.integration !== undefined && integration.name !== filter.integration) continue;
      for (const [tenant, accounts] of integration.tenants) {
        if (filter.tenant !== undefined && tenant !== filter.tenant) continue;
        for (const budget of accounts.values()) {
          const view = budgetView(budget, now);
          if (view) views.push(view);
        }
      }
    }
    return views.sort(
      (a, b) =>
        a.tenant.localeCompare(b.tenant) ||
        a.integration.localeCompare(b.integration) ||
        a.account.localeCompare(b.account),
    );
  }

  /** Refuses every waiting request and stops the timers. */
  close(): void {
    for (const integration of this.#integrations.values())
      for (const accounts of integration.tenants.values())
        for (const budget of accounts.values()) budget.close();
  }

  #track(integration: IntegrationBudgets, holder: BudgetHolder): CredentialBudget | undefined {
    if (this.#count >= this.#max && !this.#swept()) return undefined;
    let accounts = integration.tenants.get(holder.tenant);
    if (!accounts) {
      accounts = new Map();
      integration.tenants.set(holder.tenant, accounts);
    }
    const budget = new CredentialBudget(
      credentialRef(holder.tenant, holder.integration, holder.account),
      integration,
    );
    accounts.set(holder.account, budget);
    this.#count += 1;
    return budget;
  }

  /** The table is full: answers whether a sweep (at most one per SWEEP_EVERY_MS) made room. */
  #swept(): boolean {
    const now = this.#now();
    if (now - this.#sweptAt < SWEEP_EVERY_MS) return false;
    this.#sweptAt = now;
    return this.#sweep(now) < this.#max;
  }

  /** Drops idle budgets; answers how many are left. */
  #sweep(now: number): number {
    for (const integration of this.#integrations.values()) {
      for (const [tenant, accounts] of integration.tenants) {
        for (const [account, budget] of accounts) {
          if (!budget.idle(now)) continue;
          accounts.delete(account);
          this.#count -= 1;
        }
        if (accounts.size === 0) integration.tenants.delete(tenant);
      }
    }
    return this.#count;
  }

  #waitingByIntegration(): ReadonlyMap<string, number> {
    const counts = new Map<string, number>();
    for (const integration of this.#integrations.values()) {
      let waiting = 0;
      for (const accounts of integration.tenants.values())
        for (const budget of accounts.values()) waiting += budget.waiting;
      counts.set(integration.name, waiting);
    }
    return counts;
  }
}
