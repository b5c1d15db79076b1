import type { KeyInfo } from './key-store.ts';

/** Whether the key may act for tenant × integration (its accounts are checked with the request's account). */
export function allows(key: KeyInfo, tenant: string, integration: string): boolean {
  const tenantOk = key.tenants.includes('*') || key.tenants.includes(tenant);
  const integrationOk = key.integrations === undefined || key.integrations.includes(integration);
  return tenantOk && integrationOk;
}
