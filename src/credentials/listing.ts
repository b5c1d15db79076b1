import pLimit from 'p-limit';
import type { KvStore } from '../vault/kv.ts';
import { credentialPath } from './accounts.ts';
import { isValidName } from './names.ts';
import type { StoredRecord } from './record.ts';
import { DEFAULT_ACCOUNT, compareRefs, credentialRef, type CredentialRef } from './ref.ts';
import type { AuthType, CredentialListing, CredentialStatus } from './types.ts';

type ListKv = Pick<KvStore, 'list' | 'read'>;

/** The tenants with at least one credential (folders under `credentials/`), sorted. */
export async function listTenants(kv: ListKv): Promise<string[]> {
  return (await kv.list('credentials/'))
    .filter((n) => n.endsWith('/'))
    .map((n) => n.slice(0, -1))
    .filter(isValidName)
    .sort();
}

/**
 * The tenant's credentials, every account, sorted by integration then account. Under
 * `credentials/<tenant>/`, a record `<integration>` is the default account (the layout
 * from before accounts) and a folder `<integration>/` holds the other accounts.
 */
export async function listRefs(kv: ListKv, tenant: string): Promise<CredentialRef[]> {
  const entries = await kv.list(`credentials/${tenant}/`);
  const refs: CredentialRef[] = [];
  const folders: string[] = [];
  for (const entry of entries) {
    if (entry.endsWith('/')) folders.push(entry.slice(0, -1));
    else if (isValidName(entry)) refs.push(credentialRef(tenant, entry));
  }
  const limit = pLimit(8);
  const nested = await Promise.all(
    folders
      .filter(isValidName)
      .map((integration) =>
        limit(async () =>
          (await kv.list(`credentials/${tenant}/${integration}/`))
            .filter((a) => !a.endsWith('/') && isValidName(a) && a !== DEFAULT_ACCOUNT)
            .map((account) => credentialRef(tenant, integration, account)),
        ),
      ),
  );
  refs.push(...nested.flat());
  return refs.sort(compareRefs);
}

/**
 * A listing from the record's non-secret fields (no decryption); undefined when the record
 * went meanwhile. The record, not custom_metadata: a refresh writes only the record.
 */
export async function readListing(kv: ListKv, ref: CredentialRef): Promise<CredentialListing | undefined> {
  const record = await kv.read<Partial<StoredRecord>>(credentialPath(ref));
  if (!record) return undefined;
  const { tenant, integration, account } = ref;
  return { tenant, integration, account, ...listedFields(record.data), version: record.version };
}

/** Vault requests one full listing keeps in flight (tenant LISTs and record reads together). */
export const LISTING_CONCURRENCY = 32;

/**
 * Every stored credential of every tenant with expiry and status, from the records (no
 * decryption): one LIST per tenant folder and one read per credential, `concurrency` at a
 * time. The first failure ends the whole listing, queued requests included: a caller that
 * retries must not find the rest of the failed listing still reading beside its own.
 */
export async function listAllListings(
  kv: ListKv,
  concurrency = LISTING_CONCURRENCY,
): Promise<CredentialListing[]> {
  const tenants = await listTenants(kv);
  const limit = pLimit(concurrency);
  let failed = false;
  try {
    const perTenant = await Promise.all(
      tenants.map(async (tenant) => {
        const refs = await limit(() => listRefs(kv, tenant));
        if (failed) return [];
        return Promise.all(refs.map((ref) => limit(() => readListing(kv, ref))));
      }),
    );
    return perTenant.flat().filter((l): l is CredentialListing => l !== undefined);
  } catch (err) {
    failed = true;
    limit.clearQueue();
    throw err;
  }
}

/** The non-secret fields listings show, read defensively (a record written by hand may lack some). */
export function listedFields(data: Partial<StoredRecord>): {
  authType: AuthType;
  status: CredentialStatus;
  expiresAt: string | null;
  updatedAt: string | null;
  lastRefreshedAt: string | null;
  lastRefreshError: string | null;
} {
  return {
    authType: data.authType ?? 'api_key',
    status: data.status ?? 'active',
    expiresAt: data.expiresAt ? data.expiresAt : null,
    updatedAt: data.updatedAt ?? null,
    lastRefreshedAt: data.lastRefreshedAt ?? null,
    lastRefreshError: data.lastRefreshError ?? null,
  };
}
