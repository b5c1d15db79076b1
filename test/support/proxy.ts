import { inject } from 'vitest';
import { startTestKeygate, type TestKeygate } from './keygate.ts';

export const ADMIN_TOKEN = 'admin-token-for-proxy-tests-0123456789';

/** Keygate on the shared OpenBao with the given integrations YAML, plus admin helpers. */
export async function startProxyKeygate(yaml: string): Promise<TestKeygate & ProxyAdmin> {
  const vault = inject('vault');
  const keygate = await startTestKeygate(yaml, {
    VAULT_ADDR: vault.address,
    VAULT_TOKEN: vault.token,
    KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN,
  });
  return Object.assign(keygate, admin(keygate.url));
}

export interface ProxyAdmin {
  admin(method: string, path: string, body?: unknown): Promise<Response>;
  /** Stores a credential through the admin API; fails the test on anything but 200. */
  putCredential(tenant: string, integration: string, body: Record<string, unknown>): Promise<void>;
  /** Creates a Keygate key through the admin API and returns it. */
  createKey(scope: { tenants: string[]; integrations?: string[] }): Promise<{ id: string; key: string }>;
}

function admin(url: string): ProxyAdmin {
  const call = (method: string, path: string, body?: unknown) =>
    fetch(`${url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${ADMIN_TOKEN}`,
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  return {
    admin: call,
    async putCredential(tenant, integration, body) {
      const res = await call('PUT', `/v1/tenants/${tenant}/credentials/${integration}`, body);
      if (res.status !== 200) throw new Error(`PUT credential: ${res.status} ${await res.text()}`);
    },
    async createKey(scope) {
      const res = await call('POST', '/v1/keys', scope);
      if (res.status !== 201) throw new Error(`POST /v1/keys: ${res.status} ${await res.text()}`);
      return (await res.json()) as { id: string; key: string };
    },
  };
}
