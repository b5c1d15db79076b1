import type { CredentialListing } from '../credentials/types.ts';

/** What the schedule needs to know of a credential: no secret, no decryption. */
export type Trackable = Pick<
  CredentialListing,
  'tenant' | 'integration' | 'authType' | 'status' | 'expiresAt' | 'lastRefreshedAt'
> & { /** `default` when absent. */ account?: string };
