import { Counter, type Registry } from 'prom-client';
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
}
