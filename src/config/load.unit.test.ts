import { describe, expect, it } from 'vitest';
import { CONFIG_ENV, problemsOf } from '../../test/support/config-problems.ts';
import { parseConfig } from './load.ts';

const env = CONFIG_ENV;

describe('parseConfig', () => {
  it('names every bad field in one message', () => {
    const text = `
server:
  port: eighty
vault:
  address: ftp://vault.example
integrations:
  github:
    baseUrl: https://api.github.com
    auth: { type: oauth3 }
`;
    const problems = problemsOf(text);
    expect(problems.some((p) => p.startsWith('server.port:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('vault.address:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('integrations.github.auth.type:'))).toBe(true);
  });

  it('takes a cluster as vault.addresses and names a bad node address by its index', () => {
    const config = parseConfig('vault: { addresses: ["http://a:8200", "http://b:8200/"] }\n', env);
    expect(config.vault.addresses).toEqual(['http://a:8200', 'http://b:8200/']);
    const problems = problemsOf('vault: { addresses: ["http://a:8200", "a:8200"] }\n');
    expect(problems.some((p) => p.startsWith('vault.addresses.1:'))).toBe(true);
    expect(problemsOf('vault: { addresses: [] }\n').some((p) => p.startsWith('vault.addresses:'))).toBe(true);
  });

  it('rejects unknown keys, bad integration names and missing OAuth fields', () => {
    const problems = problemsOf(`
servr: {}
integrations:
  Bad_Name: { baseUrl: "https://x.example", auth: { type: api_key } }
  gh: { baseUrl: "https://api.github.com", auth: { type: oauth2 } }
`);
    expect(problems).toContain('servr: Unexpected property');
    expect(problems.some((p) => p.startsWith('integrations.Bad_Name:'))).toBe(true);
    // Cross-field rules run once the shape is right.
    const oauth = problemsOf(
      `integrations:\n  gh: { baseUrl: "https://api.github.com", auth: { type: oauth2 } }\n`,
    );
    const query = problemsOf(
      `integrations:\n  az: { baseUrl: "https://x.example/v1?api-version=2", auth: { type: api_key } }\n`,
    );
    expect(query).toEqual([
      'integrations.az.baseUrl: must be an origin and path only (no query, fragment or user info)',
    ]);
    expect(oauth).toEqual([
      'integrations.gh.auth.tokenUrl: required for oauth2',
      'integrations.gh.auth.clientId: required for oauth2',
    ]);
  });

  it('names a webhook with a malformed secret or an unknown event, never echoing the secret', () => {
    const problems = problemsOf(`
webhooks:
  - { url: https://hooks.example.com/k, secret: not-a-whsec-secret-canary }
  - url: https://hooks.example.com/k
    secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw
    events: [refresh-success, refresh-exploded]
`);
    expect(problems.some((p) => p.startsWith('webhooks.0.secret:'))).toBe(true);
    expect(problems.some((p) => p.startsWith('webhooks.1.events.1:'))).toBe(true);
    expect(problems.join('\n')).not.toContain('canary');
    const ok = parseConfig(
      'webhooks: [{ url: "https://hooks.example.com/k", secret: whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw }]',
      env,
    );
    expect(ok.webhooks).toHaveLength(1);
    expect(ok.events.delivery).toMatchObject({ queueSize: 10_000, retryForSeconds: 3600 });
  });

  it('substitutes ${ENV} and ${ENV:-default}, and names unset variables', () => {
    const config = parseConfig(
      `
integrations:
  gh:
    template: github
    auth:
      type: oauth2
      clientId: \${GH_ID}
      clientSecret: "\${GH_SECRET:-fallback-secret}"
`,
      { ...env, GH_ID: 'client-123' },
    );
    expect(config.integrations['gh']?.auth.clientId).toBe('client-123');
    expect(config.integrations['gh']?.auth.clientSecret).toBe('fallback-secret');
    // The template filled in the rest.
    expect(config.integrations['gh']?.baseUrl).toBe('https://api.github.com');
    expect(problemsOf('admin: { token: "${NOT_SET_ANYWHERE}" }')).toContain(
      'admin.token: environment variable NOT_SET_ANYWHERE is not set',
    );
  });

  it('lets the environment override server, vault and admin settings', () => {
    const config = parseConfig('server: { host: 0.0.0.0, port: 1 }\nvault: { address: "http://a:1" }\n', {
      KEYGATE_HOST: '127.0.0.2',
      KEYGATE_PORT: '9090',
      VAULT_ADDR: 'http://vault.internal:8200',
      VAULT_ROLE_ID: 'role',
      VAULT_SECRET_ID: 'secret-id',
      KEYGATE_ADMIN_TOKEN: 'an-admin-token-of-length',
    });
    expect(config.server).toMatchObject({ host: '127.0.0.2', port: 9090 });
    expect(config.vault.address).toBe('http://vault.internal:8200');
    expect(config.vault.appRole).toEqual({ roleId: 'role', secretId: 'secret-id', mount: 'approle' });
    expect(config.admin.token).toBe('an-admin-token-of-length');
    expect(problemsOf('{}', { KEYGATE_PORT: 'http' })).toContain('server.port: Expected integer');
  });

  it('requires Vault credentials and freezes the result', () => {
    expect(problemsOf('{}', {})[0]).toMatch(/^vault: no credentials/);
    const config = parseConfig('{}', env);
    expect(Object.isFrozen(config.server)).toBe(true);
    expect(config.refresh.bufferSeconds).toBe(300);
  });
});
