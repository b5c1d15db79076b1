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
import { DEFAULT_ACCOUNT, refKey, type CredentialRef } from './ref.ts';

/** The KV path of a credential, relative to Keygate's prefix. */
export function credentialPath(ref: CredentialRef): string {
  return `credentials/${refKey(ref)}`;
}

/** The Transit derivation context of a credential's ciphertext (the tenant names the key). */
export function transitContext(ref: CredentialRef): string {
  return ref.account === DEFAULT_ACCOUNT ? ref.integration : `${ref.integration}/${ref.account}`;
}
