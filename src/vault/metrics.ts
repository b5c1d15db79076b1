import { Gauge, type Registry } from 'prom-client';
import type { Readiness, VaultSession } from './session.ts';

/** Why Vault may be unusable, as readiness() says (docs/operations.md#health). */
export const NOT_READY_REASONS = [
  'vault_unreachable',
  'vault_sealed',
  'vault_uninitialized',
  'vault_token_refused',
  'vault_no_active_node',
  'vault_login_failed',
] as const;

/** A readiness answer this recent is reused by a scrape (Kubernetes probes /readyz every few seconds). */
const FRESH_MS = 10_000;

/**
 * `keygate_vault_ready` (1 when Vault is reachable, unsealed and takes Keygate's token: what
 * /readyz answers) and `keygate_vault_not_ready{reason}` (1 for the current reason), for the
 * alerts in deploy/prometheus/. A scrape reuses the last /readyz answer when it is under 10 s
 * old; else it asks Vault (one or two requests), so scraping adds at most that.
 */
export function watchVault(
  registry: Registry,
  vault: Pick<VaultSession, 'readiness' | 'lastReadiness'>,
): void {
  let current: Promise<Readiness> | undefined;
  const readiness = (): Promise<Readiness> => {
    const last = vault.lastReadiness;
    if (last && Date.now() - last.at < FRESH_MS) return Promise.resolve(last.readiness);
    // Two gauges collected in one scrape share one look.
    current ??= vault.readiness().finally(() => (current = undefined));
    return current;
  };
  new Gauge({
    name: 'keygate_vault_ready',
    help: 'Vault reachable, unsealed and accepting Keygate (what /readyz answers): 1 or 0.',
    registers: [registry],
    async collect() {
      this.set((await readiness()).ready ? 1 : 0);
    },
  });
  new Gauge({
    name: 'keygate_vault_not_ready',
    help: 'Why Vault cannot be used now, by reason (1 for the current one): vault_unreachable, vault_sealed, vault_uninitialized, vault_token_refused, vault_no_active_node, vault_login_failed.',
    labelNames: ['reason'] as const,
    registers: [registry],
    async collect() {
      const { reason } = await readiness();
      for (const r of NOT_READY_REASONS) this.set({ reason: r }, r === reason ? 1 : 0);
    },
  });
}
