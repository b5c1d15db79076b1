import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT, startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startKubernetesApi, type KubernetesApi } from '../support/kubernetes-api.ts';
import { uniqueTenant } from '../support/store.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { waitFor } from '../support/wait.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');
const admin = vaultAdmin(vault);
// A mount of this file's own: other files share the Vault.
const MOUNT = `k8s-${Math.random().toString(36).slice(2, 8)}`;
const NAMESPACE = 'keygate';
const ACCOUNT = 'keygate';

/** The token file as the kubelet keeps it: replaced whole on rotation. */
function projectedToken(dir: string): { path: string; write(token: string): void } {
  const path = join(dir, 'token');
  return { path, write: (token) => writeFileSync(path, token) };
}

describe("Vault's Kubernetes auth method, against OpenBao and a Kubernetes TokenReview API", () => {
  let k8s: KubernetesApi;
  let dir: string;
  let reviewer: string;
  const keygates: TestKeygate[] = [];

  beforeAll(async () => {
    k8s = await startKubernetesApi();
    dir = mkdtempSync(join(tmpdir(), 'keygate-sa-'));
    // Vault runs outside the cluster: it reviews with a token of its own (deploy/kubernetes/vault-reviewer.yaml).
    reviewer = await k8s.issue(NAMESPACE, 'vault-token-reviewer');
    writeFileSync(join(dir, 'reviewer'), reviewer);
    const init = spawnSync('bash', [join(ROOT, 'vault/scripts/init-vault.sh')], {
      env: {
        ...process.env,
        VAULT_ADDR: vault.address,
        VAULT_TOKEN: vault.token,
        KUBERNETES_HOST: k8s.url,
        KUBERNETES_CA_CERT: k8s.caFile,
        TOKEN_REVIEWER_JWT: join(dir, 'reviewer'),
        KEYGATE_K8S_MOUNT: MOUNT,
      },
      encoding: 'utf8',
    });
    expect(init.stderr).toBe('');
    expect(init.status).toBe(0);
    const role = await admin('GET', `auth/${MOUNT}/role/keygate`);
    expect(role.body.data).toMatchObject({
      bound_service_account_names: [ACCOUNT],
      bound_service_account_namespaces: [NAMESPACE],
      audience: 'vault',
      token_policies: ['keygate'],
    });
  });
  afterAll(async () => {
    await Promise.all(keygates.map((k) => k.close()));
    await k8s?.stop();
    await admin('DELETE', `sys/auth/${MOUNT}`);
    rmSync(dir, { recursive: true, force: true });
  });

  const start = async (tokenPath: string, role = 'keygate') => {
    const keygate = await startTestKeygate(
      `vault: { prefix: keygate, auth: { kubernetes: { role: ${role}, tokenPath: ${tokenPath}, mount: ${MOUNT} } } }`,
      { VAULT_ADDR: vault.address },
    );
    keygates.push(keygate);
    return keygate;
  };
  const logins = (keygate: TestKeygate) =>
    keygate.lines.filter((l) => l.includes('"event":"vault_login"') && l.includes('"method":"kubernetes"'));

  it('logs in with the projected token, re-reads the file at every login, and logs in again when its Vault token is revoked', async () => {
    const file = projectedToken(mkdtempSync(join(dir, 'a-')));
    const first = await k8s.issue(NAMESPACE, ACCOUNT, { audience: 'vault' });
    file.write(first);
    const keygate = await start(file.path);
    expect((await fetch(`${keygate.url}/readyz`)).status).toBe(200);
    expect(keygate.vault.authMethod).toBe('kubernetes');
    expect(k8s.reviews.filter((r) => r.token === first && r.authenticated)).toHaveLength(1);
    expect(k8s.reviews.every((r) => r.reviewer === reviewer)).toBe(true);

    // The token is the role's: the least-privilege policy, the service account in its metadata.
    const firstVaultToken = keygate.vault.client.token;
    const self = await admin('POST', 'auth/token/lookup', { token: firstVaultToken });
    expect(self.body.data.policies).toContain('keygate');
    expect(self.body.data.policies).not.toContain('root');
    expect(self.body.data.meta).toMatchObject({
      service_account_name: ACCOUNT,
      service_account_namespace: NAMESPACE,
      role: 'keygate',
    });

    // The kubelet rotates the token and the old one expires; then Vault revokes Keygate's token.
    const second = await k8s.issue(NAMESPACE, ACCOUNT, { audience: 'vault' });
    file.write(second);
    k8s.revoke(first);
    expect((await admin('POST', 'auth/token/revoke', { token: firstVaultToken })).status).toBe(204);

    // The next Vault call gets 403, logs in again (with the file's new token) and succeeds.
    const tenant = uniqueTenant('k8s');
    await keygate.store.put(credentialRef(tenant, 'github'), {
      authType: 'api_key',
      secret: { apiKey: 'after-k8s-relogin' },
    });
    expect((await keygate.store.read(credentialRef(tenant, 'github'))).secret.apiKey).toBe(
      'after-k8s-relogin',
    );
    expect(keygate.vault.client.token).not.toBe(firstVaultToken);
    expect(k8s.reviews.filter((r) => r.token === second && r.authenticated)).toHaveLength(1);
    expect(k8s.reviews.some((r) => r.token === first && r.authenticated === false)).toBe(false);
    expect(logins(keygate)).toHaveLength(2);
    // Neither service-account token nor Vault token reaches a log line.
    const log = keygate.lines.join('\n');
    for (const secret of [first, second, firstVaultToken, keygate.vault.client.token]) {
      expect(log).not.toContain(secret);
    }
  });

  it('waits for a token file that is not there yet, saying why, and logs in once it appears', async () => {
    const file = projectedToken(mkdtempSync(join(dir, 'b-')));
    const keygate = await start(file.path);
    const ready = await fetch(`${keygate.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reason: 'vault_login_failed' });
    const failed = keygate.lines.find((l) => l.includes('"event":"vault_login_failed"'));
    expect(failed).toContain('"serviceAccountFile":"ENOENT"');
    expect(failed).toContain('"method":"kubernetes"');

    file.write(await k8s.issue(NAMESPACE, ACCOUNT, { audience: 'vault' }));
    await waitFor('/readyz at 200', async () => (await fetch(`${keygate.url}/readyz`)).status === 200, {
      timeoutMs: 15_000,
    });
    expect(logins(keygate)).toHaveLength(1);
  });

  it('refuses a token of another service account (Vault says 403, readiness says why)', async () => {
    const file = projectedToken(mkdtempSync(join(dir, 'c-')));
    const other = await k8s.issue(NAMESPACE, 'someone-else', { audience: 'vault' });
    file.write(other);
    const keygate = await start(file.path);
    const ready = await fetch(`${keygate.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ reason: 'vault_login_failed' });
    const failed = keygate.lines.find((l) => l.includes('"event":"vault_login_failed"'));
    expect(failed).toContain('"status":403');
    // Refused from the token's claims, before any review.
    expect(k8s.reviews.some((r) => r.token === other)).toBe(false);
  });

  it('renews its token and logs in again, reading the file anew, before the max TTL ends it', async () => {
    // A role whose tokens live 2 s, renewable up to 4 s.
    await admin('POST', `auth/${MOUNT}/role/short`, {
      bound_service_account_names: [ACCOUNT],
      bound_service_account_namespaces: [NAMESPACE],
      audience: 'vault',
      token_policies: ['keygate'],
      token_ttl: '2s',
      token_max_ttl: '4s',
    });
    const file = projectedToken(mkdtempSync(join(dir, 'd-')));
    const tokens = [await k8s.issue(NAMESPACE, ACCOUNT, { audience: 'vault' })];
    file.write(tokens[0] as string);
    const keygate = await start(file.path, 'short');
    // Rotate the file after each login, revoking the one before: only a re-read file can log in.
    keygate.vault.on('login', () => {
      void k8s.issue(NAMESPACE, ACCOUNT, { audience: 'vault' }).then((next) => {
        k8s.revoke(tokens.at(-1) as string);
        tokens.push(next);
        file.write(next);
      });
    });
    await waitFor('three logins on their own', () => logins(keygate).length >= 3, { timeoutMs: 20_000 });
    expect(keygate.lines.some((l) => l.includes('"event":"vault_token_renewed"'))).toBe(true);
    expect(keygate.lines.some((l) => l.includes('"event":"vault_login_failed"'))).toBe(false);
    const tenant = uniqueTenant('k8s-short');
    await keygate.store.put(credentialRef(tenant, 'github'), {
      authType: 'api_key',
      secret: { apiKey: 'still-in' },
    });
    expect((await keygate.store.read(credentialRef(tenant, 'github'))).secret.apiKey).toBe('still-in');
  });
});
