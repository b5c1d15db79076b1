import type { CredentialRef } from '../credentials/ref.ts';
import type { CredentialListing } from '../credentials/types.ts';

/** What the schedule needs to know of a credential: which one, and no secret, no decryption. */
export type Trackable = CredentialRef &
  Pick<CredentialListing, 'authType' | 'status' | 'expiresAt' | 'lastRefreshedAt'>;
