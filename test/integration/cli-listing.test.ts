import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { uniqueTenant } from '../support/store.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-cli-listing-0123456789';
const CANARY = 'canary-cli-listing-Jd62Wq';

// The CLI's listing commands over GET /v1/keys, /v1/integrations, /v1/templates, /v1/credentials.
describe('keygate CLI listings', { timeout: 180_000 }, () => {
  let keygate: TestKeygate;
  const runs: CliRun[] = [];
  let env: Record<string, string>;
  const cli = async (args: string[], input?: string) => {
    const run = await runCli(args, env, input === undefined ? {} : { input });
    runs.push(run);
    return run;
  };

  beforeAll(async () => {
    keygate = await startTestKeygate(
      `
admin: { token: ${ADMIN} }
integrations:
  anthropic: { template: anthropic }
  openai: { template: openai }
`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
    env = { KEYGATE_URL: keygate.url, KEYGATE_ADMIN_TOKEN: ADMIN };
  });
  afterAll(async () => {
    const everything = [...runs.flatMap((r) => [r.stdout, r.stderr]), ...keygate.lines].join('\n');
    expect(everything).not.toContain(CANARY);
    await keygate.close();
  });

  it('lists keys, integrations and templates', async () => {
    const tenant = uniqueTenant('cli-list');
    const created = await cli(['keys', 'create', '--tenant', tenant, '--name', 'listed', '--json']);
    const { id, key } = JSON.parse(created.stdout) as { id: string; key: string };
    const [keys, integrations, templates] = await Promise.all([
      cli(['keys', 'list']),
      cli(['integrations']),
      cli(['templates', '--json']),
    ]);
    expect(keys.stdout).toMatch(new RegExp(`^${id}\\s+listed\\s+${tenant}\\s`, 'm'));
    expect(keys.stdout).not.toContain(key.split('.')[1]);
    expect(integrations.stdout).toMatch(/^anthropic\s+api_key\s+https:\/\/api\.anthropic\.com\s+no$/m);
    const names = (JSON.parse(templates.stdout) as { templates: { name: string }[] }).templates.map(
      (t) => t.name,
    );
    expect(names).toEqual(expect.arrayContaining(['anthropic', 'github', 'openai']));
  });

  it('asks Keygate what a bare secret is, lists the fleet and counts it in status', async () => {
    const tenant = uniqueTenant('cli-fleet');
    const put = await cli(['credentials', 'put', tenant, 'openai', '--json'], CANARY);
    expect([put.code, JSON.parse(put.stdout)]).toEqual([0, expect.objectContaining({ authType: 'api_key' })]);
    const unknown = await cli(['credentials', 'put', tenant, 'nope'], CANARY);
    expect([unknown.code, unknown.stderr]).toEqual([2, expect.stringContaining('no integration "nope"')]);
    const fleet = await cli(['credentials', 'list', '--integration', 'openai', '--json']);
    const rows = (JSON.parse(fleet.stdout) as { credentials: { tenant: string }[] }).credentials;
    expect(rows.some((c) => c.tenant === tenant)).toBe(true);
    const text = await cli(['credentials', 'list', '--status', 'active']);
    expect(text.stdout).toMatch(new RegExp(`^${tenant}\\s+openai\\s+default\\s+api_key\\s+active`, 'm'));
    const status = await cli(['status', '--json']);
    const body = JSON.parse(status.stdout) as {
      ready: boolean;
      credentials: { total: number; byStatus: Record<string, number> };
    };
    expect([status.code, body.ready]).toEqual([0, true]);
    expect(body.credentials.byStatus['active']).toBeGreaterThanOrEqual(1);
    // Regression: `keygate tenants` was an unknown command though GET /v1/tenants exists.
    const tenants = await cli(['tenants']);
    expect([tenants.code, tenants.stdout.split('\n')[0]]).toEqual([0, 'NAME']);
    expect(tenants.stdout).toMatch(new RegExp(`^${tenant}$`, 'm'));
  });

  // Regression: without an admin token `keygate status` refused outright; up and ready need no secret.
  it('says up and ready without an admin token, and how to get the counts', async () => {
    const run = await runCli(['status'], { KEYGATE_URL: keygate.url });
    runs.push(run);
    expect([run.code, run.stderr]).toEqual([0, '']);
    expect(run.stdout.split('\n')).toEqual([
      expect.stringMatching(/^keygate +\S+ +up$/),
      'vault       ready',
      'credentials (set KEYGATE_ADMIN_TOKEN to count them)',
      '',
    ]);
  });
});
