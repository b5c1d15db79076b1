import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startUpstream, type FakeUpstream } from '../support/upstream.ts';
import { vaultAdmin } from '../support/vault-admin.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');
const bao = vaultAdmin(vault);
const b64 = (text: string) => Buffer.from(text, 'utf8').toString('base64');

/**
 * Writes a credential exactly as the release before accounts did, straight to Vault:
 * tenant Transit key (derived, integration as context), one KV v2 record at
 * `keygate/credentials/<tenant>/<integration>` without any account field, and the
 * custom_metadata the scheduler lists.
 */
async function writeOldLayout(tenant: string, integration: string, secret: Record<string, string>) {
  const keyName = `keygate-${tenant}`;
  const created = await bao('POST', `transit/keys/${keyName}`, { type: 'aes256-gcm96', derived: true });
  expect(created.status).toBeLessThan(300);
  const encrypted = await bao('POST', `transit/encrypt/${keyName}`, {
    plaintext: b64(JSON.stringify(secret)),
    context: b64(integration),
  });
  const createdAt = '2026-01-02T03:04:05.000Z';
  const expiresAt = new Date(Date.now() + 3_600_000).toISOString();
  const record = {
    ciphertext: encrypted.body.data.ciphertext as string,
    authType: 'oauth2',
    status: 'active',
    expiresAt,
    scopes: ['read'],
    createdAt,
    updatedAt: createdAt,
    lastRefreshedAt: null,
  };
  const path = `keygate/credentials/${tenant}/${integration}`;
  expect((await bao('POST', `secret/data/${path}`, { data: record })).status).toBe(200);
  await bao('POST', `secret/metadata/${path}`, {
    custom_metadata: { authType: 'oauth2', status: 'active', expiresAt, updatedAt: createdAt },
  });
  return { createdAt, expiresAt };
}

describe('upgrade: a credential stored before accounts existed is the default account', () => {
  let provider: OAuthProvider;
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  const tenant = uniqueTenant('upgrade');
  let pair: { accessToken: string; refreshToken: string };
  let old: { createdAt: string; expiresAt: string };

  beforeAll(async () => {
    provider = await startOAuthProvider();
    upstream = await startUpstream();
    pair = provider.issue(tenant);
    old = await writeOldLayout(tenant, 'crm', { ...pair, tokenType: 'Bearer' });
    // Keygate starts after the records are there, as after an upgrade.
    keygate = await startProxyKeygate(`
vault: { prefix: keygate }
integrations:
  crm:
    baseUrl: ${upstream.origin}
    auth: { type: oauth2, tokenUrl: ${provider.tokenUrl}, clientId: ${provider.clientId}, clientSecret: ${provider.clientSecret} }
`);
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
    await provider?.stop();
  });

  it('reads, schedules, proxies, refreshes and lists it as `default`, with nothing lost', async () => {
    const meta = await keygate.admin('GET', `/v1/tenants/${tenant}/credentials/crm`);
    expect(meta.status).toBe(200);
    expect(await meta.json()).toMatchObject({
      tenant,
      integration: 'crm',
      account: 'default',
      createdAt: old.createdAt,
      expiresAt: old.expiresAt,
      scopes: ['read'],
    });
    const viaAccount = await keygate.admin('GET', `/v1/tenants/${tenant}/credentials/crm/accounts/default`);
    expect(await viaAccount.json()).toMatchObject({ account: 'default', createdAt: old.createdAt });
    // The start-up listing found it.
    await expect
      .poll(() =>
        [...keygate.refresh.scheduler.known()].some(
          (ref) => ref.tenant === tenant && ref.integration === 'crm' && ref.account === 'default',
        ),
      )
      .toBe(true);

    const { key } = await keygate.createKey({ tenants: [tenant] });
    const proxy = () =>
      fetch(`${keygate.url}/proxy/${tenant}/crm/me`, { headers: { authorization: `Bearer ${key}` } });
    expect((await proxy()).status).toBe(200);
    expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${pair.accessToken}`);

    const refreshed = await keygate.admin('POST', `/v1/tenants/${tenant}/credentials/crm/refresh`);
    expect(refreshed.status).toBe(200);
    expect(await refreshed.json()).toMatchObject({ account: 'default', createdAt: old.createdAt });
    const next = provider.current(tenant);
    expect(next?.refreshToken).not.toBe(pair.refreshToken);
    // Written back in place (version 2 of the same record), no copy anywhere else.
    const raw = await bao('GET', `secret/data/keygate/credentials/${tenant}/crm`);
    expect(raw.body.data.metadata.version).toBe(2);
    expect((await bao('LIST', `secret/metadata/keygate/credentials/${tenant}`)).body.data.keys).toEqual([
      'crm',
    ]);
    expect((await keygate.store.read(credentialRef(tenant, 'crm'))).secret.refreshToken).toBe(
      next?.refreshToken,
    );

    expect((await proxy()).status).toBe(200);
    expect(upstream.received.at(-1)?.headers.authorization).toBe(`Bearer ${next?.accessToken}`);

    // A second account beside it leaves the old record where it is.
    const work = await keygate.admin('PUT', `/v1/tenants/${tenant}/credentials/crm/accounts/work`, {
      accessToken: 'work-token',
    });
    expect(work.status).toBe(200);
    const listed = (await (await keygate.admin('GET', `/v1/tenants/${tenant}/credentials`)).json()) as {
      credentials: { account: string; createdAt: string }[];
    };
    expect(listed.credentials.map((c) => [c.account, c.createdAt === old.createdAt])).toEqual([
      ['default', true],
      ['work', false],
    ]);
    const all = await keygate.store.listAll();
    expect(all.filter((l) => l.tenant === tenant).map((l) => l.account)).toEqual(['default', 'work']);
  });
});
