import type { IncomingHttpHeaders } from 'node:http';
import { KeygateError } from '../errors.ts';
import { looksLikeKey } from './key-format.ts';
import type { CallerKeys, KeyInfo } from './key-store.ts';

const BEARER = /^Bearer\s+(\S+)\s*$/i;

/**
 * The Keygate key the caller presented: the first of `Authorization: Bearer`,
 * `x-api-key` and `Proxy-Authorization: Bearer` that holds one. SDKs put their API
 * key in one of these, so pointing an SDK at Keygate with a Keygate key just works.
 */
export function presentedKey(headers: IncomingHttpHeaders): string | undefined {
  const candidates = [
    BEARER.exec(headers.authorization ?? '')?.[1],
    typeof headers['x-api-key'] === 'string' ? headers['x-api-key'].trim() : undefined,
    BEARER.exec(headers['proxy-authorization'] ?? '')?.[1],
  ];
  return candidates.find((value): value is string => value !== undefined && looksLikeKey(value));
}

export function allows(key: KeyInfo, tenant: string, integration: string): boolean {
  const tenantOk = key.tenants.includes('*') || key.tenants.includes(tenant);
  const integrationOk = key.integrations === undefined || key.integrations.includes(integration);
  return tenantOk && integrationOk;
}

/** The caller's key when it may act for tenant × integration; 401 without a valid key, 403 out of scope. */
export async function authenticateCaller(
  keys: CallerKeys,
  headers: IncomingHttpHeaders,
  tenant: string,
  integration: string,
): Promise<KeyInfo> {
  const presented = presentedKey(headers);
  const key = presented === undefined ? undefined : await keys.verify(presented);
  if (!key) throw new KeygateError('unauthorized', { message: 'A valid Keygate key is required.' });
  if (!allows(key, tenant, integration)) throw new KeygateError('forbidden');
  return key;
}
