import type { EventBus } from '../events/bus.ts';
import type { KeygateEvent } from '../events/catalogue.ts';
import { dueTime } from './due-time.ts';
import {
  OAUTH,
  fromListing,
  statusOf,
  type InventoryEntry,
  type InventoryStatus,
  type InventoryView,
} from './fleet-entry.ts';
import { decodeCursor, encodeCursor, upperBound } from './fleet-order.ts';
import { compareRefs, refKey, type CredentialRef } from './ref.ts';
import type { AuthType, CredentialListing, CredentialStatus } from './types.ts';

export { decodeCursor } from './fleet-order.ts';
export type { InventoryEntry, InventoryStatus, InventoryView } from './fleet-entry.ts';

export interface InventoryQuery {
  tenant?: string | undefined;
  integration?: string | undefined;
  account?: string | undefined;
  /** The stored status; `expiring_soon` is the active ones that expire soon (statusOf). */
  status?: InventoryStatus | undefined;
  /** Case-insensitive part of the tenant, integration or account name. */
  q?: string | undefined;
  limit: number;
  /** A page's `nextCursor` (checked by decodeCursor before it comes here). */
  cursor?: string | undefined;
  /** When this replica's scheduler renews a credential; else the scheduler's rule is applied to the entry. */
  dueAt?: ((ref: CredentialRef) => number | undefined) | undefined;
}

export interface InventoryPage {
  credentials: InventoryView[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
  /** How many credentials match the filter, on every page. */
  total: number;
}

/** How stale GET /v1/credentials may be about changes made through other replicas (plus one listing). */
export const INVENTORY_MAX_AGE_MS = 30_000;

type Source = {
  listAll(): Promise<CredentialListing[]>;
  /** One credential's listing (one metadata read); undefined when it is gone. */
  listing?(ref: CredentialRef): Promise<CredentialListing | undefined>;
};

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
 * than `maxAgeMs`); between listings this replica's events keep it current at once, and
 * each change is then read back from Vault (one metadata read, `follow`), so the entry holds
 * what Vault holds. Credentials stored or deleted through another replica are followed the
 * same way by the fleet's changes record; other replicas' refreshes show after a listing.
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
  /** The latest read-back asked for per credential: an older one that answers late is dropped. */
  readonly #following = new Map<string, number>();
  #followSeq = 0;

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

  /**
   * One page of the fleet (GET /v1/credentials), filtered, in (tenant, integration, account)
   * order. The cursor is the last row's position, so a page is stable while credentials come
   * and go around it; `total` counts every match, on every page.
   */
  query(query: InventoryQuery): InventoryPage {
    const now = this.#now();
    const buffer = this.#opts.refreshBufferMs;
    const sorted = this.sorted();
    const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
    const start = after === undefined ? 0 : upperBound(sorted, after);
    const { tenant, integration, account, status } = query;
    const q = query.q?.toLowerCase();
    const matches = (e: InventoryEntry) =>
      (!tenant || e.tenant === tenant) &&
      (!integration || e.integration === integration) &&
      (!account || e.account === account) &&
      (!status || (status === 'expiring_soon' ? statusOf(e, now, buffer) === status : e.status === status)) &&
      (!q || e.tenant.includes(q) || e.integration.includes(q) || e.account.includes(q));
    let total = 0;
    const page: InventoryView[] = [];
    let more = false;
    for (let i = 0; i < sorted.length; i += 1) {
      const entry = sorted[i] as InventoryEntry;
      if (!matches(entry)) continue;
      total += 1;
      if (i < start) continue;
      if (page.length < query.limit) page.push(this.#view(entry, now, query.dueAt));
      else more = true;
    }
    const last = page.at(-1);
    return { credentials: page, total, nextCursor: more && last ? encodeCursor(last) : null };
  }

  async #list(): Promise<CredentialListing[]> {
    const touched = new Map<string, InventoryEntry | null>();
    this.#touched = touched;
    try {
      const listings = await this.#opts.source.listAll();
      const next = new Map<string, InventoryEntry>();
      for (const listing of listings) {
        const key = refKey(listing);
        next.set(key, fromListing(listing, this.#entries.get(key)));
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
    const key = refKey(event.data);
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
          updatedAt: event.data.time,
          lastRefreshedAt: event.data.source === 'connect' ? event.data.time : null,
          lastRefreshError: null,
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
            updatedAt: event.data.time,
            lastRefreshedAt: event.data.time,
            lastRefreshError: null,
            lastRefresh: { result: 'success', at: event.data.time },
          };
        }
        break;
      case 'refresh-failed':
        if (current) {
          next = {
            ...current,
            status: event.data.permanent ? 'needs_reauth' : 'refresh_failed',
            lastRefreshError: event.data.error ?? current.lastRefreshError,
            lastRefresh: { result: 'failed', at: event.data.time, ...errorOf(event.data.error) },
          };
        }
        break;
      case 'needs-reauth':
        if (current) {
          next = {
            ...current,
            status: 'needs_reauth',
            lastRefreshError: event.data.error ?? current.lastRefreshError,
          };
        }
        break;
      default:
        return;
    }
    if (next === undefined) return;
    this.#set(key, next);
    // What Vault now holds (the exact times, a failure's stored code) replaces the guess.
    // (Not a refreshed token whose Vault write is still pending: Vault holds the old one.)
    const unpersisted = event.type === 'refresh-success' && event.data.persisted === false;
    if (event.type !== 'credential-deleted' && !unpersisted) this.follow(event.data);
  }

  /**
   * Reads one credential's listing back from Vault and puts it in place (or removes it when
   * it is gone): after this replica's change events, and for other replicas' changes.
   */
  follow(ref: CredentialRef): void {
    const source = this.#opts.source;
    if (!source.listing) return;
    const key = refKey(ref);
    const seq = (this.#followSeq += 1);
    this.#following.set(key, seq);
    source.listing(ref).then(
      (listing) => {
        if (this.#following.get(key) !== seq) return;
        this.#following.delete(key);
        this.#set(key, listing ? fromListing(listing, this.#entries.get(key)) : null);
      },
      () => {
        if (this.#following.get(key) === seq) this.#following.delete(key);
        // Vault unreachable: the event's values stand until the next listing.
      },
    );
  }

  /** Every entry in (tenant, integration, account) order; relists in the background when old. */
  sorted(): readonly InventoryEntry[] {
    if (this.#listedAt !== undefined && this.#now() - this.#listedAt > this.#opts.maxAgeMs) {
      this.relist().catch(() => {}); // the next listing (or resync) tries again
    }
    return this.#sortedEntries();
  }

  #set(key: string, next: InventoryEntry | null): void {
    if (next) this.#entries.set(key, next);
    else this.#entries.delete(key);
    this.#touched?.set(key, next);
    this.#sorted = undefined;
  }

  #sortedEntries(): InventoryEntry[] {
    this.#sorted ??= [...this.#entries.values()].sort(compareRefs);
    return this.#sorted;
  }

  #view(entry: InventoryEntry, now: number, dueAt: InventoryQuery['dueAt']): InventoryView {
    const expiringSoon = statusOf(entry, now, this.#opts.refreshBufferMs) === 'expiring_soon';
    const lastRefreshError = entry.status === 'active' ? null : entry.lastRefreshError;
    if (!OAUTH.has(entry.authType)) return { ...entry, lastRefreshError, expiringSoon };
    // What this replica's scheduler will do; else its rule, so the column says the same.
    const due = dueAt?.(entry) ?? dueTime(entry, this.#opts.refreshBufferMs, now);
    const nextRefreshAt = due === undefined ? null : new Date(due).toISOString();
    return { ...entry, lastRefreshError, expiringSoon, nextRefreshAt };
  }
}

const errorOf = (error: string | undefined) => (error === undefined ? {} : { error });
