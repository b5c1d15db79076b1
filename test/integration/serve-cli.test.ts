import { inject, describe, expect, it } from 'vitest';
import { spawnKeygate } from '../support/keygate.ts';
import { waitFor } from '../support/wait.ts';

const vault = inject('vault');

describe('keygate serve', () => {
  it('exits 2 with one message naming every bad field', async () => {
    const proc = spawnKeygate(
      `
server: { port: not-a-port }
vault: { address: "${vault.address}", timeoutMs: 5 }
integrations:
  github: { baseUrl: "ftp://api.github.com", auth: { type: oauth2 } }
`,
      { VAULT_TOKEN: vault.token },
    );
    const { code } = await proc.exit;
    expect(code).toBe(2);
    const message = proc.stderr();
    expect(message).toContain('server.port');
    expect(message).toContain('vault.timeoutMs');
    expect(message).toContain('integrations.github.baseUrl');
    expect(message.match(/invalid configuration/g)).toHaveLength(1);
  });

  it('takes ${ENV} and environment overrides, serves /readyz from the real Vault, stops on SIGTERM', async () => {
    const proc = spawnKeygate(
      `
server: { host: 127.0.0.1, port: 1 }
vault: { address: "http://127.0.0.1:9" }
admin: { token: "\${ADMIN_FROM_ENV}" }
`,
      {
        VAULT_ADDR: vault.address, // overrides the unreachable address in the file
        VAULT_TOKEN: vault.token,
        KEYGATE_PORT: '0', // overrides port 1
        ADMIN_FROM_ENV: 'admin-token-0123456789',
      },
    );
    // A cold process loading the whole app on a busy 2-core machine can take over 10 s.
    const url = await waitFor('the listening line', () => /"url":"(http:[^"]+)"/.exec(proc.stdout())?.[1], {
      timeoutMs: 40_000,
    });
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    proc.kill('SIGTERM');
    const { code } = await proc.exit;
    expect(code).toBe(0);
    expect(proc.stdout()).toContain('"event":"stopped"');
    expect(proc.stdout()).not.toContain('admin-token-0123456789');
    expect(proc.stdout()).not.toContain(vault.token);
  });
});
