import type { EventBus } from '../events/bus.ts';
import type { KeygateEvent } from '../events/catalogue.ts';
import { dueTime } from '../refresh/due-time.ts';
import type { AuthType, CredentialListing, CredentialStatus } from './types.ts';

/** One credential as the fleet inventory shows it: listing metadata plus refresh facts. */
export interface InventoryEntry {
  tenant: string;
  integration: string;
  account: string;
  authType: AuthType;
  status: CredentialStatus;
  expiresAt: string | null;
  /** When this replica's scheduler renews it; null when it is not renewed (API key, needs_reauth). */
  nextRefreshAt: string | null;
  /** The last refresh this replica saw (since it started), or null. */
  lastRefresh: { result: 'success' | 'failed'; at: string; error?: string } | null;
}

/** An entry as a query answers it: with its next refresh and whether it is expiring soon. */
export interface InventoryView extends InventoryEntry {
  expiringSoon: boolean;
}

export type InventoryStatus = CredentialStatus | 'expiring_soon';

export interface InventoryQuery {
  tenant?: string | undefined;
  integration?: string | undefined;
  status?: InventoryStatus | undefined;
  /** Case-insensitive part of the tenant, integration or account name. */
  q?: string | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface InventoryPage {
  credentials: InventoryView[];
  nextCursor?: string;
  /** How many credentials match the filter, on every page. */
  total: number;
}

/** How stale GET /v1/credentials may be about changes made through other replicas (plus one listing). */
export const INVENTORY_MAX_AGE_MS = 30_000;

/** An active credential expiring within this long without a renewal is `expiring_soon`. */
export const EXPIRING_SOON_MS = 3600_000;

type Source = { listAll(): Promise<CredentialListing[]> };
type Listing = CredentialListing & { account?: string };

const keyOf = (t: string, i: string, a: string) => `${t}\u0000${i}\u0000${a}`;
const OAUTH = new Set<AuthType>(['oauth2', 'oauth2_client_credentials']);

export interface InventoryOptions {
  /** Where listings come from: Vault metadata, no decryption (the credential store). */
  source: Source;
  bus: Pick<EventBus, 'subscribe'>;
  refreshBufferMs: number;
  /** A query on an inventory older than this relists Vault in the background. */
  maxAgeMs: number;
  now?: () => number;
}

/**
 * The fleet's credentials in memory, so that GET /v1/credentials pages and filters 10,000
 * of them without 10,000 Vault reads per page. Filled from every full listing (the
 * scheduler's at start, each resync, and a background relist when a query finds it older
 * than `maxAgeMs`); between listings this replica's events keep it current at once.
 * Changes made through another replica show after the next listing.
 */
export class Inventory {
  readonly #opts: InventoryOptions;
  readonly #now: () => number;
  #entries = new Map<string, InventoryEntry>();
  #sorted: InventoryEntry[] | undefined;
  #listedAt: number | undefined;
  #listing: Promise<CredentialListing[]> | undefined;
  /** Events seen while a listing runs: applied over its (older) answer. */
  #touched: Map<string, InventoryEntry | null> | undefined;

  constructor(opts: InventoryOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    opts.bus.subscribe((event) => this.#apply(event));
  }

  /** True once a full listing has filled it. */
  get ready(): boolean {
    return this.#listedAt !== undefined;
  }

  get size(): number {
    return this.#entries.size;
  }

  /**
   * The source, for the scheduler and its resync: each listing they make refills the
   * inventory, and one already under way is shared rather than run twice.
   */
  tap(): Source {
    return { listAll: () => this.relist() };
  }

  /** Lists Vault now (or joins the listing under way); resolves when the inventory reflects it. */
  relist(): Promise<CredentialListing[]> {
    this.#listing ??= this.#list().finally(() => (this.#listing = undefined));
    return this.#listing;
  }

  query(query: InventoryQuery): InventoryPage {
    const now = this.#now();
    if (this.#listedAt !== undefined && now - this.#listedAt > this.#opts.maxAgeMs) {
      this.relist().catch(() => {}); // the next listing (or resync) tries again
    }
    const sorted = this.#sortedEntries();
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const start = after === undefined ? 0 : upperBound(sorted, after);
    const q = query.q?.toLowerCase();
    const matches = (e: InventoryEntry) =>
      (!query.tenant || e.tenant === query.tenant) &&
      (!query.integration || e.integration === query.integration) &&
      (!query.status || statusOf(e, now, this.#opts.refreshBufferMs) === query.status) &&
      (!q || e.tenant.includes(q) || e.integration.includes(q) || e.account.includes(q));
    let total = 0;
    const page: InventoryView[] = [];
    let more = false;
    for (let i = 0; i < sorted.length; i += 1) {
      const entry = sorted[i] as InventoryEntry;
      if (!matches(entry)) continue;
      total += 1;
      if (i < start) continue;
      if (page.length < query.limit) page.push(this.#view(entry, now));
      else more = true;
    }
    const last = page.at(-1);
    return { credentials: page, total, ...(more && last ? { nextCursor: encodeCursor(last) } : {}) };
  }

  async #list(): Promise<CredentialListing[]> {
    const touched = new Map<string, InventoryEntry | null>();
    this.#touched = touched;
    try {
      const listings = await this.#opts.source.listAll();
      const next = new Map<string, InventoryEntry>();
      for (const listing of listings as Listing[]) {
        const account = listing.account ?? 'default';
        const key = keyOf(listing.tenant, listing.integration, account);
        const previous = this.#entries.get(key);
        next.set(key, {
          tenant: listing.tenant,
          integration: listing.integration,
          account,
          authType: listing.authType,
          status: listing.status,
          expiresAt: listing.expiresAt,
          nextRefreshAt: null,
          lastRefresh: previous?.lastRefresh ?? null,
        });
      }
      for (const [key, entry] of touched) {
        if (entry) next.set(key, entry);
        else next.delete(key);
      }
      this.#entries = next;
      this.#sorted = undefined;
      this.#listedAt = this.#now();
      return listings;
    } finally {
      if (this.#touched === touched) this.#touched = undefined;
    }
  }

  #apply(event: KeygateEvent): void {
    if (!('tenant' in event.data)) return;
    const { tenant, integration, account } = event.data;
    const key = keyOf(tenant, integration, account);
    const current = this.#entries.get(key);
    let next: InventoryEntry | null | undefined;
    switch (event.type) {
      case 'credential-stored':
        next = {
          tenant,
          integration,
          account,
          authType: event.data.authType as AuthType,
          status: event.data.status as CredentialStatus,
          expiresAt: event.data.expiresAt,
          nextRefreshAt: null,
          lastRefresh: current?.lastRefresh ?? null,
        };
        break;
      case 'credential-deleted':
        next = null;
        break;
      case 'refresh-success':
        if (current) {
          next = {
            ...current,
            status: 'active',
            expiresAt: event.data.expiresAt ?? current.expiresAt,
            lastRefresh: { result: 'success', at: event.data.time },
          };
        }
        break;
      case 'refresh-failed':
        if (current) {
          next = {
            ...current,
            status: event.data.permanent ? 'needs_reauth' : 'refresh_failed',
            lastRefresh: { result: 'failed', at: event.data.time, ...errorOf(event.data.error) },
          };
        }
        break;
      case 'needs-reauth':
        if (current) next = { ...current, status: 'needs_reauth' };
        break;
      default:
        return;
    }
    if (next === undefined) return;
    if (next) this.#entries.set(key, next);
    else this.#entries.delete(key);
    this.#touched?.set(key, next);
    this.#sorted = undefined;
  }

  #sortedEntries(): InventoryEntry[] {
    this.#sorted ??= [...this.#entries.values()].sort(compare);
    return this.#sorted;
  }

  #view(entry: InventoryEntry, now: number): InventoryView {
    const expiringSoon = statusOf(entry, now, this.#opts.refreshBufferMs) === 'expiring_soon';
    if (!OAUTH.has(entry.authType)) return { ...entry, expiringSoon };
    // The scheduler's own rule, so the column says what the scheduler will do.
    const lastRefreshedAt = entry.lastRefresh?.result === 'success' ? entry.lastRefresh.at : null;
    const due = dueTime({ ...entry, lastRefreshedAt }, this.#opts.refreshBufferMs, now);
    return { ...entry, expiringSoon, nextRefreshAt: due === undefined ? null : new Date(due).toISOString() };
  }
}

const errorOf = (error: string | undefined) => (error === undefined ? {} : { error });

/**
 * `expiring_soon` for an active credential that expires within the hour and that Keygate
 * will not renew before then: one that is not refreshed (an API key with an expiry), or an
 * OAuth one already inside its refresh window without a renewal (the refresh is late).
 */
export function statusOf(entry: InventoryEntry, now: number, refreshBufferMs: number): InventoryStatus {
  if (entry.status !== 'active' || !entry.expiresAt) return entry.status;
  const left = Date.parse(entry.expiresAt) - now;
  const soon =
    left < (OAUTH.has(entry.authType) ? Math.min(refreshBufferMs, EXPIRING_SOON_MS) : EXPIRING_SOON_MS);
  return soon ? 'expiring_soon' : 'active';
}

type Ref = Pick<InventoryEntry, 'tenant' | 'integration' | 'account'>;

/** Tenant, then integration, then account with `default` first. */
function compare(a: Ref, b: Ref): number {
  return (
    cmp(a.tenant, b.tenant) ||
    cmp(a.integration, b.integration) ||
    (a.account === 'default' ? -1 : 0) - (b.account === 'default' ? -1 : 0) ||
    cmp(a.account, b.account)
  );
}
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The index of the first entry after `ref` in sort order. */
function upperBound(sorted: InventoryEntry[], ref: Ref): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(sorted[mid] as InventoryEntry, ref) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function encodeCursor(ref: Ref): string {
  return Buffer.from(JSON.stringify([ref.tenant, ref.integration, ref.account])).toString('base64url');
}

/** Undefined for a cursor this inventory did not make. */
export function decodeCursor(cursor: string): Ref | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(parsed) && parsed.length === 3 && parsed.every((p) => typeof p === 'string')) {
      const [tenant, integration, account] = parsed as [string, string, string];
      return { tenant, integration, account };
    }
  } catch {
    // fall through
  }
  return undefined;
}
