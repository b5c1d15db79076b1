/**
 * Accounts: a tenant may hold several credentials for one integration, one per account.
 *
 * The `default` account lives where every credential lived before accounts existed
 * (`credentials/<tenant>/<integration>`, Transit context `<integration>`), so records
 * written by an earlier release are the default account as they stand: no migration,
 * nothing rewritten, and a replica of the earlier release still reads them during a
 * rolling upgrade (it ignores the account folders). Any other account is one level
 * deeper, `credentials/<tenant>/<integration>/<account>`, with Transit context
 * `<integration>/<account>`, so a ciphertext moved between accounts does not decrypt.
 * KV v2 lets a path be a record and a folder at once; names never contain `/`.
 */

export const DEFAULT_ACCOUNT = 'default';

/** The KV path of a credential, relative to Keygate's prefix. */
export function credentialPath(tenant: string, integration: string, account = DEFAULT_ACCOUNT): string {
  const base = `credentials/${tenant}/${integration}`;
  return account === DEFAULT_ACCOUNT ? base : `${base}/${account}`;
}

/** The Transit derivation context of a credential's ciphertext. */
export function transitContext(integration: string, account = DEFAULT_ACCOUNT): string {
  return account === DEFAULT_ACCOUNT ? integration : `${integration}/${account}`;
}

/** One key per credential for in-memory maps (cache, single-flight, schedule). */
export function credentialKey(tenant: string, integration: string, account = DEFAULT_ACCOUNT): string {
  return account === DEFAULT_ACCOUNT ? `${tenant}/${integration}` : `${tenant}/${integration}/${account}`;
}
