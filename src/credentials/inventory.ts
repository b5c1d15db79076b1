import pLimit from 'p-limit';
import { KeygateError } from '../errors.ts';
import type { KvStore } from '../vault/kv.ts';
import { credentialPath } from './accounts.ts';
import { compareRefs, listedFields, listRefs, listTenants, type CredentialRef } from './listing.ts';
import type { StoredRecord } from './record.ts';
import { assertNames, isValidName } from './names.ts';
import type { AuthType, CredentialStatus } from './types.ts';

/** One row of the fleet-wide inventory: the record's non-secret fields, no decryption. */
export interface InventoryItem extends CredentialRef {
  authType: AuthType;
  status: CredentialStatus;
  expiresAt: string | null;
  updatedAt: string | null;
  /** The last successful refresh (or connect), when known. */
  lastRefreshedAt: string | null;
  /** The stable code of the last refresh failure while the credential is not active. */
  lastRefreshError: string | null;
  /** When this replica's scheduler will refresh it; null when not scheduled. */
  nextRefreshAt: string | null;
}

export interface InventoryQuery {
  tenant?: string | undefined;
  integration?: string | undefined;
  account?: string | undefined;
  status?: CredentialStatus | undefined;
  limit: number;
  cursor?: string | undefined;
}

export interface InventoryPage {
  credentials: InventoryItem[];
  /** Pass back as `cursor` for the next page; null on the last one. */
  nextCursor: string | null;
}

type InventoryKv = Pick<KvStore, 'list' | 'read'>;
type DueAt = (tenant: string, integration: string, account: string) => number | undefined;

/**
 * A page of every stored credential, in (tenant, integration, account) order, read from
 * the records' non-secret fields (no decryption). The cursor is the last row's position, so a page is stable while
 * credentials come and go around it.
 */
export async function inventory(
  kv: InventoryKv,
  query: InventoryQuery,
  dueAt: DueAt = () => undefined,
): Promise<InventoryPage> {
  assertNames(query.tenant ?? 'x', query.integration, query.account);
  const after = query.cursor === undefined ? undefined : decodeCursor(query.cursor);
  const tenants = query.tenant === undefined ? await listTenants(kv) : [query.tenant];
  const out: InventoryItem[] = [];
  const limit = pLimit(16);
  for (const tenant of tenants) {
    if (after && tenant < after.tenant) continue;
    const refs = (await listRefs(kv, tenant)).filter(
      (r) =>
        (query.integration === undefined || r.integration === query.integration) &&
        (query.account === undefined || r.account === query.account) &&
        (after === undefined || compareRefs(r, after) > 0),
    );
    // Read in slices no larger than what the page still needs (a status filter may drop some).
    for (let i = 0; i < refs.length && out.length < query.limit;) {
      const slice = refs.slice(i, i + Math.max(16, query.limit - out.length));
      i += slice.length;
      const rows = await Promise.all(slice.map((ref) => limit(() => readItem(kv, ref, dueAt))));
      for (const row of rows) {
        if (!row || (query.status !== undefined && row.status !== query.status)) continue;
        if (out.length < query.limit) out.push(row);
      }
    }
    if (out.length >= query.limit) break;
  }
  const last = out.at(-1);
  return {
    credentials: out,
    nextCursor: out.length >= query.limit && last ? encodeCursor(last) : null,
  };
}

async function readItem(
  kv: InventoryKv,
  ref: CredentialRef,
  dueAt: DueAt,
): Promise<InventoryItem | undefined> {
  const record = await kv.read<Partial<StoredRecord>>(
    credentialPath(ref.tenant, ref.integration, ref.account),
  );
  if (!record) return undefined;
  const fields = listedFields(record.data);
  const due = dueAt(ref.tenant, ref.integration, ref.account);
  return {
    tenant: ref.tenant,
    integration: ref.integration,
    account: ref.account,
    ...fields,
    lastRefreshError: fields.status === 'active' ? null : fields.lastRefreshError,
    nextRefreshAt: due === undefined ? null : new Date(due).toISOString(),
  };
}

export function encodeCursor(ref: CredentialRef): string {
  return Buffer.from(JSON.stringify([ref.tenant, ref.integration, ref.account])).toString('base64url');
}

function decodeCursor(cursor: string): CredentialRef {
  let parts: unknown;
  try {
    parts = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    parts = undefined;
  }
  if (!Array.isArray(parts) || parts.length !== 3 || !parts.every(isValidName)) {
    throw new KeygateError('validation_failed', {
      message: 'Invalid fields: querystring.cursor.',
      details: ['querystring.cursor: not a cursor this API gave out'],
    });
  }
  const [tenant, integration, account] = parts as [string, string, string];
  return { tenant, integration, account };
}
