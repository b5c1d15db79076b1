import { Counter, Gauge, type Registry } from 'prom-client';
import type { VaultSession } from '../vault/session.ts';
import type { FleetSync } from './fleet-sync.ts';

/** What this replica costs Vault, and what the fleet agreement is doing. */
export function watchFleet(
  registry: Registry,
  vault: Pick<VaultSession, 'requests'>,
  fleet?: FleetSync,
): void {
  new Counter({
    name: 'keygate_vault_requests_total',
    help: 'Requests this replica sent to Vault (KV, Transit, token calls; retries included).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(vault.requests);
    },
  });
  if (!fleet) return;
  new Counter({
    name: 'keygate_fleet_changes_total',
    help: 'The fleet changes record: polls (reads), appends (writes) and check-and-set conflicts.',
    labelNames: ['op'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const op of ['polls', 'appends', 'conflicts'] as const) this.inc({ op }, fleet.counts[op]);
    },
  });
  const members = fleet.members;
  if (!members) return;
  new Gauge({
    name: 'keygate_fleet_replicas',
    help: 'Live replicas this one knows of (itself included), that due refreshes are sharded over.',
    registers: [registry],
    collect() {
      this.set(members.live().length);
    },
  });
  new Counter({
    name: 'keygate_fleet_heartbeats_total',
    help: 'The replicas record: reads, writes and check-and-set conflicts of the heartbeat.',
    labelNames: ['op'] as const,
    registers: [registry],
    collect() {
      this.reset();
      for (const op of ['reads', 'writes', 'conflicts'] as const) this.inc({ op }, members.counts[op]);
    },
  });
}
