import type { Config } from '../config/schema.ts';
import type { Inventory } from '../credentials/fleet-index.ts';
import { credentialRef, type CredentialRef } from '../credentials/ref.ts';
import type { CredentialStore } from '../credentials/store.ts';
import type { EventBus } from '../events/bus.ts';
import { isKeygateError } from '../errors.ts';
import type { CallerKeys } from '../keys/key-store.ts';
import type { Logger } from '../observability/logger.ts';
import type { RefreshScheduler } from '../refresh/scheduler.ts';
import type { ScheduleResync } from '../refresh/resync.ts';
import type { KvStore } from '../vault/kv.ts';
import type { Change } from './changes.ts';
import { FleetSync } from './fleet-sync.ts';
import { FleetMembers } from './members.ts';
import { rendezvousRank } from '../refresh/shard.ts';

export interface FleetDeps {
  config: Readonly<Config>;
  kv: KvStore;
  bus: EventBus;
  logger: Logger;
  keys: Pick<CallerKeys, 'evict' | 'clearCache'>;
  store: Pick<CredentialStore, 'invalidate' | 'clearCache' | 'metadata'>;
  scheduler: Pick<RefreshScheduler, 'track' | 'cancel' | 'useShard' | 'reshard'>;
  resync: Pick<ScheduleResync, 'runOnce'>;
  /** The fleet inventory (GET /v1/credentials): reads a changed credential back. */
  inventory?: Pick<Inventory, 'follow'>;
}

/**
 * The fleet's changes, applied here: a revoked key and a changed credential leave the
 * caches, and the refresh schedule and the fleet inventory follow the credential (one
 * metadata read each) rather than waiting for the next full resync; and, with
 * `fleet.heartbeatSeconds`, the live replicas that due refreshes are sharded over.
 * Undefined when `fleet.pollSeconds` is 0.
 */
export function setupFleet(deps: FleetDeps): FleetSync | undefined {
  const { config, kv, bus, logger, keys, store, scheduler, resync, inventory } = deps;
  if (config.fleet.pollSeconds <= 0) return undefined;
  const follow = async (ref: CredentialRef) => {
    try {
      scheduler.track(await store.metadata(ref));
    } catch (err) {
      if (isKeygateError(err, 'credential_not_found')) scheduler.cancel(ref);
      // Anything else (Vault down): the next full resync puts the schedule right.
    }
  };
  // Sharding: replicas announce themselves; each attempts at once only the due credentials it owns.
  const members =
    config.fleet.heartbeatSeconds > 0
      ? new FleetMembers({
          kv,
          logger,
          self: `${bus.replica}#${bus.boot}`,
          intervalMs: config.fleet.heartbeatSeconds * 1000,
          onChange: () => scheduler.reshard(),
        })
      : undefined;
  if (members) {
    scheduler.useShard({
      rank: (key) => rendezvousRank(key, members.self, members.live()),
      lookup: (ref) => store.metadata(ref),
      graceMs: config.fleet.shardGraceSeconds * 1000,
    });
  }
  return new FleetSync({
    kv,
    bus,
    logger,
    members,
    pollMs: config.fleet.pollSeconds * 1000,
    kept: config.fleet.changesKept,
    evict: (change: Change) => {
      if (change.kind === 'key') return keys.evict(change.id);
      // Built anew: an entry written by a release before accounts has none (the default account).
      const ref = credentialRef(change.tenant, change.integration, change.account);
      store.invalidate(ref);
      void follow(ref);
      inventory?.follow(ref);
    },
    evictAll: () => {
      logger.info('fell behind the fleet changes; dropping every cache', { event: 'fleet_caches_dropped' });
      keys.clearCache();
      store.clearCache();
      void resync.runOnce();
    },
  });
}
