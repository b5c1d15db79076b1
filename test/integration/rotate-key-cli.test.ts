import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { ROOT } from '../support/keygate.ts';
import { makeStore, uniqueTenant, type TestStore } from '../support/store.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/keygate.js'), ...args], {
    env: { PATH: process.env['PATH'] ?? '', VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => (stdout += c.toString()));
  child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
  return new Promise((resolve) => child.on('exit', (code) => resolve({ code, stdout, stderr })));
}

describe('keygate vault rotate-key', () => {
  let t: TestStore;
  beforeAll(async () => {
    t = await makeStore(vault, 'vault: { prefix: keygate }');
  });
  afterAll(() => t.close());

  it('rotates the tenant key and rewraps its records; reads keep working', async () => {
    const tenant = uniqueTenant('cli-rotate');
    await t.store.put(credentialRef(tenant, 'github'), {
      authType: 'oauth2',
      secret: { accessToken: 'tok-github' },
    });
    await t.store.put(credentialRef(tenant, 'anthropic'), {
      authType: 'api_key',
      secret: { apiKey: 'key-anthropic' },
    });
    const dir = mkdtempSync(join(tmpdir(), 'keygate-rotate-'));
    const config = join(dir, 'keygate.yaml');
    writeFileSync(config, 'log: { level: warn }\n');

    const result = await run(['vault', 'rotate-key', '--tenant', tenant, '--config', config]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ tenant, keyVersion: 2, rewrapped: 2 });

    const root = vaultAdmin(vault);
    const raw = await root('GET', `secret/data/keygate/credentials/${tenant}/github`);
    expect(raw.body.data.data.ciphertext).toMatch(/^vault:v2:/);
    t.store.invalidate(credentialRef(tenant, 'github'));
    expect((await t.store.get(credentialRef(tenant, 'github'))).secret.accessToken).toBe('tok-github');
    expect((await t.store.read(credentialRef(tenant, 'anthropic'))).secret.apiKey).toBe('key-anthropic');

    const usage = await run(['vault', 'rotate-key', '--config', config]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--tenant');
    const badName = await run(['vault', 'rotate-key', '--tenant', '../x', '--config', config]);
    expect(badName.code).toBe(1);
    expect(badName.stderr).toContain('invalid_name');
    // Regression: an unknown tenant used to give an opaque "Vault error".
    const unknown = uniqueTenant('cli-rotate-none');
    const none = await run(['vault', 'rotate-key', '--tenant', unknown, '--config', config]);
    expect(none.code).toBe(1);
    expect(none.stderr).toBe(
      `keygate: rotate-key failed: tenant_not_found: Tenant ${unknown} has no Transit key (it never stored a credential); check the name.\n`,
    );
  });
});
