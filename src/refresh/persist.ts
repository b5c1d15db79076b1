import type { Credential, CredentialWrite } from '../credentials/types.ts';
import { isKeygateError } from '../errors.ts';
import type { CredentialStore } from '../credentials/store.ts';

/** The part of the credential store a refresh needs. */
export type RefreshStore = Pick<CredentialStore, 'read' | 'put' | 'setStatus' | 'prime' | 'invalidate'>;

/** How many times a refreshed pair is written again over a record whose tokens did not change. */
const RETRIES = 3;

export type Persisted = { written: Credential } | { superseded: true };

/**
 * Writes a refreshed credential with check-and-set on the version the refresh started from
 * (`base`), so a holder that stalled past its lease can never clobber a newer pair. The
 * version can also move without the tokens changing: another replica that took over a
 * lapsed lease and saw the provider refuse the spent refresh token, or a status write. The
 * pair in hand is then the only one the provider will honour, so it is written over that
 * version. Tokens replaced meanwhile (an operator stored new ones, another refresh
 * succeeded) win: `superseded`. Vault errors other than a conflict are thrown.
 */
export async function persistRefreshed(
  store: RefreshStore,
  base: Credential,
  write: CredentialWrite,
): Promise<Persisted> {
  let cas = base.version;
  for (let attempt = 0; ; attempt += 1) {
    try {
      const written = await store.put(base, write, { cas, createdAt: base.createdAt });
      return { written };
    } catch (err) {
      if (!isKeygateError(err, 'conflict')) throw err;
      if (attempt >= RETRIES) return { superseded: true };
    }
    store.invalidate(base);
    let latest: Credential;
    try {
      latest = await store.read(base);
    } catch (err) {
      if (isKeygateError(err, 'credential_not_found')) return { superseded: true };
      throw err;
    }
    if (!sameTokens(latest, base)) return { superseded: true };
    cas = latest.version;
  }
}

function sameTokens(a: Credential, b: Credential): boolean {
  return a.secret.accessToken === b.secret.accessToken && a.secret.refreshToken === b.secret.refreshToken;
}
