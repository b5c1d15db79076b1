/** One credential: a tenant's account of an integration. The only way code names a credential. */
export interface CredentialRef {
  readonly tenant: string;
  readonly integration: string;
  /** `default` unless the tenant holds several accounts (docs/api.md, accounts). */
  readonly account: string;
}

/** The account a credential has when none is named, and every credential had before accounts. */
export const DEFAULT_ACCOUNT = 'default';

/** A ref with the account defaulted; the names are trusted to be checked already (credentials/names.ts). */
export function credentialRef(tenant: string, integration: string, account = DEFAULT_ACCOUNT): CredentialRef {
  return { tenant, integration, account };
}

/**
 * The one key of a credential: `<tenant>/<integration>`, `/<account>` added for an account
 * other than `default`. In-memory maps (cache, single-flight, schedule, shards, budgets)
 * key by it, and the Vault layout is built on it (accounts.ts), so it must not change:
 * records written before accounts existed are found by it (test/integration/accounts-upgrade.test.ts).
 */
export function refKey(ref: CredentialRef): string {
  return ref.account === DEFAULT_ACCOUNT
    ? `${ref.tenant}/${ref.integration}`
    : `${ref.tenant}/${ref.integration}/${ref.account}`;
}

/** Tenant, then integration, then account with `default` first (the one callers get without naming any). */
export function compareRefs(a: CredentialRef, b: CredentialRef): number {
  return (
    cmp(a.tenant, b.tenant) ||
    cmp(a.integration, b.integration) ||
    (a.account === DEFAULT_ACCOUNT ? -1 : 0) - (b.account === DEFAULT_ACCOUNT ? -1 : 0) ||
    cmp(a.account, b.account)
  );
}

const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
