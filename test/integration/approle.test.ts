import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { ROOT, startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { waitFor } from '../support/wait.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');

async function vaultCall(method: string, path: string, token: string, body?: unknown) {
  const res = await fetch(`${vault.address}/v1/${path}`, {
    method,
    headers: { 'x-vault-token': token, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return {
    status: res.status,
    body: res.status === 204 ? undefined : ((await res.json()) as { data: Record<string, unknown> }),
  };
}

describe('AppRole login with the role init-vault.sh creates', () => {
  let keygate: TestKeygate | undefined;
  afterAll(() => keygate?.close());

  it('logs in with least privilege, and logs in again after its token is revoked', async () => {
    const init = spawnSync('bash', [join(ROOT, 'vault/scripts/init-vault.sh')], {
      env: { ...process.env, VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
      encoding: 'utf8',
    });
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    const ids = Object.fromEntries(
      init.stdout
        .trim()
        .split('\n')
        .map((l) => l.split('=', 2)),
    );
    expect(ids['VAULT_ROLE_ID']).toMatch(/^[0-9a-f-]{36}$/);

    keygate = await startTestKeygate('vault: { prefix: keygate }', {
      VAULT_ADDR: vault.address,
      VAULT_ROLE_ID: ids['VAULT_ROLE_ID'],
      VAULT_SECRET_ID: ids['VAULT_SECRET_ID'],
    });
    expect((await fetch(`${keygate.url}/readyz`)).status).toBe(200);

    // The token carries the least-privilege policy, not root.
    const firstToken = keygate.vault.client.token;
    const self = await vaultCall('GET', 'auth/token/lookup-self', firstToken);
    expect(self.body?.data['policies']).toContain('keygate');
    expect(self.body?.data['policies']).not.toContain('root');

    const revoked = await vaultCall('POST', 'auth/token/revoke', vault.token, { token: firstToken });
    expect(revoked.status).toBe(204);
    expect((await vaultCall('GET', 'auth/token/lookup-self', firstToken)).status).toBe(403);

    // The first Vault call after the revocation gets 403, logs in again once and retries:
    // the caller sees success. It also proves the policy allows what the store needs.
    const tenant = `approle-${Date.now().toString(36)}`;
    await keygate.store.put(credentialRef(tenant, 'github'), {
      authType: 'oauth2',
      secret: { accessToken: 'after-relogin' },
    });
    expect((await keygate.store.read(credentialRef(tenant, 'github'))).secret.accessToken).toBe(
      'after-relogin',
    );
    expect(keygate.vault.client.token).not.toBe(firstToken);

    await waitFor('/readyz back at 200', async () => (await fetch(`${keygate!.url}/readyz`)).status === 200);
    expect(keygate.vault.client.token).not.toBe(firstToken);
    const logins = keygate.lines.filter((l) => l.includes('"event":"vault_login"'));
    expect(logins.length).toBeGreaterThanOrEqual(2);
    // Neither token nor secret id reaches a log line.
    const log = keygate.lines.join('\n');
    for (const secret of [firstToken, keygate.vault.client.token, ids['VAULT_SECRET_ID'] as string]) {
      expect(log).not.toContain(secret);
    }
  });
});
