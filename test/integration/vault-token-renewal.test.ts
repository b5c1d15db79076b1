import { afterAll, describe, expect, inject, it } from 'vitest';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { waitFor } from '../support/wait.ts';

const vault = inject('vault');
const root = vaultAdmin(vault);

describe('Keygate renews its own Vault token', () => {
  let keygate: TestKeygate | undefined;
  afterAll(() => keygate?.close());

  it('renews before the TTL ends and logs in again when the max TTL is near', async () => {
    // A role with very short token lifetimes, so a whole token life fits in a test.
    const mounts = await root('GET', 'sys/auth');
    if (!('approle/' in mounts.body.data)) await root('POST', 'sys/auth/approle', { type: 'approle' });
    await root('PUT', 'sys/policies/acl/keygate-renewal-test', {
      policy: 'path "auth/token/lookup-self" { capabilities = ["read"] }',
    });
    await root('POST', 'auth/approle/role/keygate-short', {
      token_policies: ['keygate-renewal-test'],
      token_ttl: '3s',
      token_max_ttl: '6s',
    });
    const roleId = (await root('GET', 'auth/approle/role/keygate-short/role-id')).body.data.role_id;
    const secretId = (await root('POST', 'auth/approle/role/keygate-short/secret-id', {})).body.data
      .secret_id;

    // The role may only look itself up: the fleet poll (a KV read) would meet 403s and log in again.
    keygate = await startTestKeygate('fleet: { pollSeconds: 0 }\n', {
      VAULT_ADDR: vault.address,
      VAULT_ROLE_ID: roleId,
      VAULT_SECRET_ID: secretId,
    });
    const events = () => keygate!.lines.map((l) => JSON.parse(l).event as string);
    const logins = () => events().filter((e) => e === 'vault_login').length;
    // On a busy machine the start itself can outlast a 3 s token: count the logins that
    // came before the token this test calls "first", and wait for one after it.
    const first = keygate.vault.client.token;
    const loginsBefore = logins();
    await waitFor('a renewal', () => events().includes('vault_token_renewed'), { timeoutMs: 30_000 });
    // Past the 6 s max TTL of the first token, Keygate holds a new one and is still ready.
    // A login logs once its lookup returns, after node-vault already holds the new token; a
    // login in flight when `first` was read (a start-up read meeting 403) is counted after
    // it, so wait for both: a login counted and a token that is not `first`.
    await waitFor(
      'a login after the first token',
      () => logins() > loginsBefore && keygate!.vault.client.token !== first,
      { timeoutMs: 30_000 },
    );
    await waitFor(
      'the first token to expire',
      async () => (await root('POST', 'auth/token/lookup', { token: first })).status !== 200,
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    expect((await fetch(`${keygate.url}/readyz`)).status).toBe(200);
    expect(events()).not.toContain('vault_login_failed');
  });
});
