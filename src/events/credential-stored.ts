import type { CredentialMetadata } from '../credentials/types.ts';
import type { EventPublisher } from './bus.ts';

/** Publishes `credential-stored` for a credential just written, from its metadata (never its secret). */
export function publishCredentialStored(
  events: EventPublisher,
  metadata: CredentialMetadata,
  source: 'admin' | 'connect',
): void {
  const { tenant, integration, account, authType, status, expiresAt } = metadata;
  events.publish('credential-stored', { tenant, integration, account, authType, status, expiresAt, source });
}
