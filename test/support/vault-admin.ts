import type { VaultTarget } from '../../src/vault/dev-server.ts';

/** Raw Vault HTTP calls with an admin (root) token: to look behind Keygate's back. */
export function vaultAdmin({ address, token }: VaultTarget) {
  return async function call(
    method: string,
    path: string,
    body?: unknown,
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(`${address}/v1/${path}`, {
      method,
      headers: { 'x-vault-token': token, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}
