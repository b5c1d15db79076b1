import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, spawnCli, type CliProcess, type CliRun } from '../support/cli.ts';
import { consent, providerIntegration } from '../support/connect.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-cli-tests-0123456789';
// Each CLI run is a Node process start; on a loaded two-core machine that takes seconds.
const SLOW = { timeoutMs: 60_000 };
const CANARIES = ['canary-cli-apikey-Hq31Zt', 'canary-cli-access-Pw72Lm', 'canary-cli-refresh-Vn40Ks'];

// The operator CLI against a real Keygate on the test OpenBao, run as a user runs it.
describe('keygate CLI', { timeout: 180_000 }, () => {
  let provider: OAuthProvider;
  let keygate: TestKeygate;
  const runs: CliRun[] = [];
  let env: Record<string, string>;

  async function cli(args: string[], input?: string, extra: Record<string, string> = {}) {
    const run = await runCli(args, { ...env, ...extra }, input === undefined ? {} : { input });
    runs.push(run);
    return run;
  }
  const json = (run: CliRun) => JSON.parse(run.stdout) as Record<string, unknown>;
  // What `keygate connect` prints on a line of its own: the URL to send the tenant's user to.
  const authorizationUrlOf = (connect: CliProcess) =>
    waitFor('the authorization URL', () => /^(http\S+)$/m.exec(connect.stdout())?.[1], SLOW);

  beforeAll(async () => {
    provider = await startOAuthProvider({ authMethod: 'client_secret_post' });
    keygate = await startTestKeygate(
      `
admin: { token: ${ADMIN} }
integrations:
${providerIntegration('acme', provider, { scopes: ['read'] })}  anthropic: { template: anthropic }
`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
    env = { KEYGATE_URL: keygate.url, KEYGATE_ADMIN_TOKEN: ADMIN };
  });
  afterAll(async () => {
    // No secret in anything the CLI printed or Keygate logged, whatever happened above.
    const everything = [...runs.flatMap((r) => [r.stdout, r.stderr]), ...keygate.lines].join('\n');
    for (const secret of [...CANARIES, ...provider.issuedTokens(), provider.clientSecret]) {
      expect(everything).not.toContain(secret);
    }
    await keygate.close();
    await provider.stop();
  });

  it('stores an API key read from standard input, shows, lists and deletes it', async () => {
    const tenant = uniqueTenant('cli-creds');
    const put = await cli(
      ['credentials', 'put', tenant, 'anthropic', '--type', 'api_key'],
      `${CANARIES[0]}\n`,
    );
    expect(put.stderr).toBe('');
    expect([put.code, put.stdout]).toEqual([0, expect.stringContaining('status: active')]);
    expect((await keygate.store.read(credentialRef(tenant, 'anthropic'))).secret.apiKey).toBe(CANARIES[0]);

    const got = await cli(['credentials', 'get', tenant, 'anthropic', '--json']);
    expect(json(got)).toMatchObject({
      tenant,
      integration: 'anthropic',
      authType: 'api_key',
      status: 'active',
    });
    const listed = await cli(['credentials', 'list', tenant]);
    expect(listed.stdout.split('\n')[0]).toMatch(/^TENANT\s+INTEGRATION\s+ACCOUNT\s+AUTHTYPE\s+STATUS/);
    expect(listed.stdout).toMatch(new RegExp(`^${tenant}\\s+anthropic\\s+.*active`, 'm'));

    const deleted = await cli(['credentials', 'delete', tenant, 'anthropic']);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toMatch(new RegExp(`^deleted ${tenant}/anthropic\n`));
    const gone = await cli(['credentials', 'get', tenant, 'anthropic']);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toMatch(
      /^keygate: credential_not_found: .*; store one with `keygate credentials put/,
    );
  });

  it('keeps accounts apart with --account', async () => {
    const tenant = uniqueTenant('cli-accounts');
    const put = (account: string, secret: string) =>
      cli(['credentials', 'put', tenant, 'anthropic', '--type', 'api_key', '--account', account], secret);
    expect((await put('work', `${CANARIES[0]}-work`)).code).toBe(0);
    expect((await put('default', `${CANARIES[0]}-default`)).code).toBe(0);
    const work = await cli(['credentials', 'get', tenant, 'anthropic', '--account', 'work', '--json']);
    expect(json(work)).toMatchObject({ tenant, integration: 'anthropic', account: 'work' });
    const listed = await cli(['credentials', 'list', tenant, '--json']);
    const accounts = (json(listed)['credentials'] as { account: string }[]).map((c) => c.account).sort();
    expect(accounts).toEqual(['default', 'work']);
    expect((await cli(['credentials', 'delete', tenant, 'anthropic', '--account', 'work'])).code).toBe(0);
    const gone = await cli(['credentials', 'get', tenant, 'anthropic', '--account', 'work']);
    expect(gone.code).toBe(1);
    expect((await cli(['credentials', 'get', tenant, 'anthropic'])).code).toBe(0);
    const bad = await cli(['credentials', 'get', tenant, 'anthropic', '--account', 'Work!']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('bad account name')]);
  });

  it('takes a JSON body on standard input for an OAuth credential, and refreshes it', async () => {
    const tenant = uniqueTenant('cli-oauth');
    const pair = provider.issue(`${tenant}-family`);
    const body = JSON.stringify({
      accessToken: pair.accessToken,
      refreshToken: pair.refreshToken,
      expiresIn: 3600,
    });
    const put = await cli(['credentials', 'put', tenant, 'acme', '--json', '--scopes', 'read'], body);
    expect([put.code, json(put)]).toEqual([
      0,
      expect.objectContaining({ authType: 'oauth2', scopes: ['read'] }),
    ]);
    const refreshed = await cli(['credentials', 'refresh', tenant, 'acme', '--json']);
    expect(refreshed.code).toBe(0);
    expect(json(refreshed)['lastRefreshedAt']).toEqual(expect.any(String));
    expect(provider.current(`${tenant}-family`)?.accessToken).not.toBe(pair.accessToken);
  });

  it('creates and revokes keys; the key is printed once and works on the proxy', async () => {
    const tenant = uniqueTenant('cli-keys');
    const created = await cli(['keys', 'create', '--tenant', tenant, '--name', 'cli-test']);
    expect(created.code).toBe(0);
    const key = created.stdout.trim();
    expect(key).toMatch(/^kg_[a-z0-9]+\.[A-Za-z0-9_-]+$/);
    const id = key.slice(3).split('.')[0] as string;
    expect(created.stderr).toContain(`key ${id} for ${tenant}: shown only now`);
    const proxied = () =>
      fetch(`${keygate.url}/proxy/${tenant}/anthropic/v1/models`, { headers: { 'x-api-key': key } });
    // Authenticated (no credential stored yet), not refused.
    expect((await proxied()).headers.get('x-keygate-error')).toBe('credential_not_found');

    const whole = await cli(['keys', 'revoke', key]);
    expect([whole.code, whole.stderr]).toEqual([2, expect.stringContaining('give the key id only')]);
    const revoked = await cli(['keys', 'revoke', id]);
    expect([revoked.code, revoked.stdout]).toEqual([0, `revoked key ${id}\n`]);
    await waitFor('the key to be refused', async () => (await proxied()).status === 401, {
      timeoutMs: 40_000,
    });
  });

  it('keys create --account (repeatable) limits the key to those accounts; keys list shows them', async () => {
    const tenant = uniqueTenant('cli-accounts');
    const created = await cli([
      'keys',
      'create',
      '-t',
      tenant,
      '--account',
      'alice',
      '-a',
      'bob,alice',
      '--json',
    ]);
    expect(created.code).toBe(0);
    const { id, key, accounts } = json(created) as unknown as { id: string; key: string; accounts: string[] };
    expect(accounts).toEqual(['alice', 'bob']);
    const proxied = (account: string) =>
      fetch(`${keygate.url}/proxy/${tenant}/anthropic/v1/models`, {
        headers: { 'x-api-key': key, 'keygate-account': account },
      });
    expect((await proxied('bob')).headers.get('x-keygate-error')).toBe('credential_not_found');
    expect((await proxied('carol')).headers.get('x-keygate-error')).toBe('account_not_allowed');
    const listed = await cli(['keys', 'list']);
    expect(listed.stdout.split('\n').find((l) => l.includes(id))).toContain('alice,bob');
    const bad = await cli(['keys', 'create', '-t', tenant, '--account', 'Not!']);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining('bad account name')]);
  });

  it('follows the event stream: one readable line per event, or JSON with --json', async () => {
    const tenant = uniqueTenant('cli-events');
    const pair = provider.issue(`${tenant}-family`);
    await keygate.store.put(credentialRef(tenant, 'acme'), {
      authType: 'oauth2',
      secret: { accessToken: pair.accessToken, refreshToken: pair.refreshToken },
      expiresAt: new Date(Date.now() + 3600_000).toISOString(),
    });
    const text = spawnCli(['events', '--tenant', tenant], env);
    const raw = spawnCli(['events', '--tenant', tenant, '--json'], env);
    // Each says so once subscribed; a refresh after that produces events both must show.
    await waitFor('the text follower', () => text.stderr().includes('following events'), SLOW);
    const refresh = await cli(['credentials', 'refresh', tenant, 'acme']);
    expect(refresh.code).toBe(0);
    const line = await waitFor('a refresh-success line', () =>
      text
        .stdout()
        .split('\n')
        .find((l) => l.includes('refresh-success')),
    );
    expect(line).toMatch(
      new RegExp(`^\\d{4}-\\d\\d-\\d\\dT\\S+Z\\s+refresh-success\\s+${tenant}/acme\\s+.*attempt=1`),
    );
    // --json says nothing on stderr, so there is no telling when it is subscribed:
    // refresh again until it has shown one.
    const refreshAgain = () =>
      fetch(`${keygate.url}/v1/tenants/${tenant}/credentials/acme/refresh`, {
        method: 'POST',
        headers: { authorization: `Bearer ${ADMIN}` },
      });
    const event = await waitFor(
      'a refresh-success object',
      async () =>
        (await refreshAgain()).ok &&
        raw
          .stdout()
          .split('\n')
          .filter(Boolean)
          .map((l) => JSON.parse(l) as { event: string; data: Record<string, unknown> })
          .find((e) => e.event === 'refresh-success'),
      { ...SLOW, intervalMs: 1000 },
    );
    expect(event.data).toMatchObject({ tenant, integration: 'acme' });
    text.kill('SIGINT');
    raw.kill('SIGTERM');
    const [a, b] = await Promise.all([text.done, raw.done]);
    expect([a.code, b.code]).toEqual([0, 0]);
    runs.push(a, b);
  });

  it('connect prints the URL, waits for the connected event, and gives up at its deadline', async () => {
    const tenant = uniqueTenant('cli-connect');
    const connect = spawnCli(['connect', tenant, 'acme', '--timeout', '120'], env);
    const url = await authorizationUrlOf(connect);
    expect(url.startsWith(`${provider.url}/authorize?`)).toBe(true);
    // The tenant's browser: consent at the provider, back to Keygate's callback.
    const callback = await fetch(await consent(url));
    expect(callback.status).toBe(200);
    const done = await connect.done;
    runs.push(done);
    expect([done.code, done.stdout.trim().split('\n').at(-1)]).toEqual([
      0,
      `connected ${tenant}/acme (scopes: read)`,
    ]);
    expect(done.stderr).toContain(`Waiting up to 120 s for ${tenant}/acme to connect`);
    expect((await keygate.store.read(credentialRef(tenant, 'acme'))).status).toBe('active');

    const late = await cli(['connect', uniqueTenant('cli-connect-late'), 'acme', '--timeout', '1']);
    expect(late.code).toBe(1);
    expect(late.stderr).toMatch(/did not connect within 1 s .*run keygate connect again/);
    const apiKeyOnly = await cli(['connect', tenant, 'anthropic']);
    expect([apiKeyOnly.code, apiKeyOnly.stderr]).toEqual([1, expect.stringContaining('connect_unsupported')]);
  });

  it('connect ends at once with exit 1 when the callback fails (connect-failed), saying what to do', async () => {
    const tenant = uniqueTenant('cli-connect-denied');
    const connect = spawnCli(['connect', tenant, 'acme', '--timeout', '600'], env);
    const url = await authorizationUrlOf(connect);
    provider.denyNextAuthorization();
    const callback = await fetch(await consent(url));
    expect([callback.status, callback.headers.get('x-keygate-error')]).toEqual([400, 'oauth_denied']);
    // Well before the 600 s deadline: the event ends the wait.
    const done = await connect.done;
    runs.push(done);
    expect(done.code).toBe(1);
    expect(done.stderr).toMatch(
      new RegExp(`keygate: ${tenant}/acme did not connect: oauth_denied; .*run keygate connect again`),
    );
    expect(await keygate.store.has(credentialRef(tenant, 'acme'))).toBe(false);
  });

  it('reports status: ready, and unreachable with what to do', async () => {
    const ok = await cli(['status']);
    expect([ok.code, ok.stdout.split('\n').slice(0, 2)]).toEqual([
      0,
      [`keygate     ${keygate.url}  up`, 'vault       ready'],
    ]);
    const down = await cli(['status', '--url', 'http://127.0.0.1:9']);
    expect(down.code).toBe(1);
    expect(down.stderr).toMatch(
      /^keygate: cannot reach Keygate at http:\/\/127\.0\.0\.1:9 \(.*\): is it running\?/,
    );
  });

  it('exits 2 on bad usage and 1 on a refused token, saying what to do', async () => {
    const unknown = await cli(['credentials', 'put', 'acme', 'anthropic', '--api-key', 'x']);
    expect([unknown.code, unknown.stderr]).toEqual([
      2,
      expect.stringContaining("unknown option '--api-key'"),
    ]);
    const badName = await cli(['credentials', 'get', 'Not_A_Tenant', 'anthropic']);
    expect([badName.code, badName.stderr]).toEqual([
      2,
      expect.stringContaining('bad tenant name "Not_A_Tenant"'),
    ]);
    const noToken = await cli(['keys', 'create', '--tenant', 'acme'], undefined, { KEYGATE_ADMIN_TOKEN: '' });
    expect([noToken.code, noToken.stderr]).toEqual([2, expect.stringContaining('set KEYGATE_ADMIN_TOKEN')]);
    const wrong = await cli(['credentials', 'list', 'acme'], undefined, {
      KEYGATE_ADMIN_TOKEN: 'not-the-token',
    });
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('The admin token is wrong');
    const asJson = await cli(['credentials', 'list', 'acme', '--json'], undefined, {
      KEYGATE_ADMIN_TOKEN: 'x',
    });
    expect(JSON.parse(asJson.stderr)).toMatchObject({ error: { code: 'unauthorized' } });
    const emptySecret = await cli(['credentials', 'put', 'acme', 'anthropic', '--type', 'api_key'], '\n');
    expect([emptySecret.code, emptySecret.stderr]).toEqual([2, expect.stringContaining('no secret given')]);
    for (const args of [['--help'], ['keys', 'create', '--help'], ['connect', '--help']]) {
      const help = await cli(args);
      expect([args, help.code, help.stdout]).toEqual([args, 0, expect.stringContaining('Usage: keygate')]);
    }
  });
});
