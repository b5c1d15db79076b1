import type { CredentialRef } from '../credentials/ref.ts';
import type { Credential } from '../credentials/types.ts';

/**
 * What the proxy needs from the refresh code on an upstream 401: one shared refresh
 * per credential (in process and across replicas). When the stored token already
 * differs from `staleAccessToken`, the stored credential comes back without a call to
 * the provider. A permanent failure throws `credential_refresh_failed` after the
 * credential's status was set.
 */
export interface CredentialRefresher {
  refresh(
    ref: CredentialRef,
    options: { reason: 'unauthorized'; staleAccessToken: string },
  ): Promise<Credential>;
}
