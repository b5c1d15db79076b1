import { invalidFields } from '../http/invalid-fields.ts';
import type { InventoryEntry } from './fleet-index.ts';
import { decodeCursor, encodeCursor, upperBound } from './fleet-order.ts';
import { assertNames, isValidName } from './names.ts';
import type { CredentialStatus } from './types.ts';

/** One row of GET /v1/credentials: the record's non-secret fields, no decryption. */
export type CredentialRow = Omit<InventoryEntry, 'lastRefresh'>;

export interface CredentialsQuery {
  tenant?: string | undefined;
  integration?: string | undefined;
  account?: string | undefined;
  status?: CredentialStatus | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface CredentialsPage {
  credentials: CredentialRow[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

type DueAt = (tenant: string, integration: string, account: string) => number | undefined;

/**
 * A page of GET /v1/credentials from the fleet inventory's sorted entries (no Vault read):
 * filtered by the stored status, in (tenant, integration, account) order. The cursor is the
 * last row's position, so a page is stable while credentials come and go around it.
 */
export function credentialsPage(
  sorted: readonly InventoryEntry[],
  query: CredentialsQuery,
  dueAt: DueAt = () => undefined,
): CredentialsPage {
  assertNames(query.tenant ?? 'x', query.integration, query.account);
  const after = query.cursor === undefined ? undefined : checkedCursor(query.cursor);
  const out: CredentialRow[] = [];
  let more = false;
  for (let i = after === undefined ? 0 : upperBound(sorted, after); i < sorted.length; i += 1) {
    const e = sorted[i] as InventoryEntry;
    if (query.tenant !== undefined && e.tenant !== query.tenant) {
      if (e.tenant > query.tenant) break; // sorted by tenant first: nothing further matches
      continue;
    }
    if (query.integration !== undefined && e.integration !== query.integration) continue;
    if (query.account !== undefined && e.account !== query.account) continue;
    if (query.status !== undefined && e.status !== query.status) continue;
    if (out.length === query.limit) {
      more = true;
      break;
    }
    out.push(row(e, dueAt(e.tenant, e.integration, e.account)));
  }
  const last = out.at(-1);
  return { credentials: out, nextCursor: more && last ? encodeCursor(last) : null };
}

function row(e: InventoryEntry, due: number | undefined): CredentialRow {
  return {
    tenant: e.tenant,
    integration: e.integration,
    account: e.account,
    authType: e.authType,
    status: e.status,
    expiresAt: e.expiresAt,
    updatedAt: e.updatedAt,
    lastRefreshedAt: e.lastRefreshedAt,
    lastRefreshError: e.status === 'active' ? null : e.lastRefreshError,
    nextRefreshAt: due === undefined ? null : new Date(due).toISOString(),
  };
}

function checkedCursor(cursor: string) {
  const ref = decodeCursor(cursor);
  if (!ref || ![ref.tenant, ref.integration, ref.account].every(isValidName)) {
    throw invalidFields(['querystring.cursor: not a cursor this API gave out']);
  }
  return ref;
}
