import { DEFAULT_ACCOUNT, credentialKey } from './accounts.ts';

/** One credential: a tenant's account of an integration. The only way new code names a credential. */
export interface CredentialRef {
  readonly tenant: string;
  readonly integration: string;
  /** `default` unless the tenant holds several accounts (docs/api.md, accounts). */
  readonly account: string;
}

/** A ref with the account defaulted; the names are trusted to be checked already (credentials/names.ts). */
export function credentialRef(tenant: string, integration: string, account = DEFAULT_ACCOUNT): CredentialRef {
  return { tenant, integration, account };
}

/** The one key of a credential in in-memory maps (cache, single-flight, schedule, budgets). */
export function refKey(ref: CredentialRef): string {
  return credentialKey(ref.tenant, ref.integration, ref.account);
}
