import type { VaultTarget } from '../../src/vault/dev-server.ts';
import { REFRESH_EVENTS, type RefreshEvent, type RefreshEventName } from '../../src/refresh/events.ts';
import { Refresher } from '../../src/refresh/refresher.ts';
import type { EventEmitter } from 'node:events';
import { memoryLogger } from './keygate.ts';
import type { OAuthProvider } from './oauth-provider.ts';
import { makeStore, type TestStore } from './store.ts';

/** Configuration YAML for an OAuth integration whose token endpoint is the fake provider. */
export function providerIntegration(name: string, provider: OAuthProvider, extra = ''): string {
  return `  ${name}:
    baseUrl: ${provider.url}
    auth:
      type: oauth2
      tokenUrl: ${provider.tokenUrl}
      clientId: ${provider.clientId}
      clientSecret: ${provider.clientSecret}
      tokenEndpointAuthMethod: ${provider.options.authMethod}
${extra}`;
}

export interface TestRefresher extends TestStore {
  refresher: Refresher;
  /** The refresher's log lines (the store's are in `lines`). */
  refresherLines: string[];
}

/** A Refresher over a real Vault (its own session and store), as one replica would have. */
export async function makeRefresher(target: VaultTarget, yaml: string): Promise<TestRefresher> {
  const t = await makeStore(target, yaml);
  const { logger, lines } = memoryLogger();
  const refresher = new Refresher({ store: t.store, kv: t.kv, config: t.config, logger });
  return {
    ...t,
    refresher,
    refresherLines: lines,
    close: () => {
      void refresher.close().then(() => t.close());
    },
  };
}

/** Records every refresh event an emitter sends, in order. */
export function recordEvents(emitter: EventEmitter): Array<{ name: RefreshEventName } & RefreshEvent> {
  const seen: Array<{ name: RefreshEventName } & RefreshEvent> = [];
  for (const name of REFRESH_EVENTS) {
    emitter.on(name, (event: RefreshEvent) => seen.push({ name, ...event }));
  }
  return seen;
}
