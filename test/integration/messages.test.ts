import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../support/cli.ts';
import { providerIntegration } from '../support/connect.ts';
import { messageProblems } from '../support/messages.ts';
import { startOAuthProvider, type OAuthProvider } from '../support/oauth-provider.ts';
import { ADMIN_TOKEN, startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import type { TestKeygate } from '../support/keygate.ts';
import { freePort } from '../support/ports.ts';
import { uniqueTenant } from '../support/store.ts';
import { waitFor } from '../support/wait.ts';

interface ErrorBody {
  error: { code: string; message: string; details?: string[] };
}

const CANARY = 'canary-body-secret-Rt88Xe';

// Messages an operator reads: each says what is wrong and what to do, and holds no secret.
describe('error messages', () => {
  let t: TestKeygate & ProxyAdmin;
  let provider: OAuthProvider;
  const tenant = uniqueTenant('messages');
  let refusedPort: number;
  const runs: CliRun[] = [];

  beforeAll(async () => {
    refusedPort = await freePort(); // nothing listens there: connection refused
    provider = await startOAuthProvider({ authMethod: 'client_secret_post' });
    t = await startProxyKeygate(`
integrations:
  refused: { baseUrl: "http://127.0.0.1:${refusedPort}/api", auth: { type: api_key } }
  nowhere: { baseUrl: "http://keygate-test.invalid", auth: { type: api_key } }
${providerIntegration('oauthy', provider)}`);
  });
  afterAll(async () => {
    const everything = [...t.lines, ...runs.flatMap((r) => [r.stdout, r.stderr])].join('\n');
    expect(everything).not.toContain(CANARY);
    await t.close();
    await provider.stop();
  });

  const put = (init: RequestInit) =>
    fetch(`${t.url}/v1/tenants/${tenant}/credentials/refused`, { method: 'PUT', ...init });

  it('says whether the content type or the JSON of an admin body is wrong, without quoting it', async () => {
    const auth = { authorization: `Bearer ${ADMIN_TOKEN}` };
    const wrongType = await put({ headers: { ...auth, 'content-type': 'text/plain' }, body: CANARY });
    const badJson = await put({
      headers: { ...auth, 'content-type': 'application/json' },
      body: `{"apiKey": ${CANARY}}`,
    });
    const empty = await put({ headers: { ...auth, 'content-type': 'application/json' }, body: '' });
    const bodies = await Promise.all([wrongType, badJson, empty].map((r) => r.json() as Promise<ErrorBody>));
    expect([wrongType.status, badJson.status, empty.status]).toEqual([400, 400, 400]);
    expect(bodies.map((b) => b.error.code)).toEqual(['bad_request', 'bad_request', 'validation_failed']);
    expect(bodies[0]?.error.message).toMatch(/^Wrong content type: .*application\/json/);
    expect(bodies[1]?.error.message).toMatch(/^The body is not valid JSON \(the content type is right\)/);
    expect(bodies[2]?.error.details).toEqual(['body: must be a JSON object']);
    expect(JSON.stringify(bodies)).not.toContain(CANARY);
  });

  it('speaks of the admin token on /v1, not of credentials', async () => {
    const none = await fetch(`${t.url}/v1/tenants/${tenant}/credentials`);
    const wrong = await fetch(`${t.url}/v1/tenants/${tenant}/credentials`, {
      headers: { authorization: 'Bearer not-the-admin-token' },
    });
    expect([none.status, wrong.status]).toEqual([401, 401]);
    expect(((await none.json()) as ErrorBody).error.message).toBe(
      'The admin API needs the admin token: send Authorization: Bearer <KEYGATE_ADMIN_TOKEN>.',
    );
    expect(((await wrong.json()) as ErrorBody).error.message).toBe(
      'The admin token is wrong: send the KEYGATE_ADMIN_TOKEN Keygate was started with.',
    );
  });

  it('logs the host and the cause of an unreachable upstream, without a secret', async () => {
    const apiKey = `${CANARY}-upstream`;
    await t.putCredential(tenant, 'refused', { apiKey });
    await t.putCredential(tenant, 'nowhere', { apiKey });
    const { key } = await t.createKey({ tenants: [tenant] });
    for (const integration of ['refused', 'nowhere']) {
      const res = await fetch(`${t.url}/proxy/${tenant}/${integration}/v1/x?token=${CANARY}`, {
        method: 'POST', // not retried, so one line each
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.headers.get('x-keygate-error')).toBe('upstream_unreachable');
    }
    const failures = await waitFor('two upstream_failed lines', () => {
      const found = t.lines.map((l) => JSON.parse(l)).filter((e) => e.event === 'upstream_failed');
      return found.length >= 2 && found;
    });
    expect(failures.map((f) => [f.host, f.cause, f.upstreamErrorCode])).toEqual([
      [`127.0.0.1:${refusedPort}`, 'refused', 'ECONNREFUSED'],
      ['keygate-test.invalid', 'dns', 'ENOTFOUND'],
    ]);
    expect(t.lines.join('\n')).not.toContain(key.split('.')[1]);
  });
});

// Every message a user can provoke reads as one sentence saying what to do: no doubled
// punctuation, no schema path. Each row is a request as a user might get it wrong.
describe('provoked errors', () => {
  let t: TestKeygate & ProxyAdmin;
  let provider: OAuthProvider;
  const tenant = uniqueTenant('provoked');
  const runs: CliRun[] = [];
  let env: Record<string, string>;
  let otherKey: string;
  let ownKey: string;

  beforeAll(async () => {
    provider = await startOAuthProvider({ authMethod: 'client_secret_post' });
    t = await startProxyKeygate(`
integrations:
  apikeyed: { baseUrl: "http://127.0.0.1:9/api", auth: { type: api_key } }
${providerIntegration('oauthy', provider)}`);
    env = { KEYGATE_URL: t.url, KEYGATE_ADMIN_TOKEN: ADMIN_TOKEN };
    otherKey = (await t.createKey({ tenants: ['someone-else'] })).key;
    ownKey = (await t.createKey({ tenants: [tenant] })).key;
    // A refresh token the provider never issued: the refresh is refused (invalid_grant).
    await t.putCredential(tenant, 'oauthy', {
      accessToken: `${CANARY}-access`,
      refreshToken: `${CANARY}-refresh`,
      expiresIn: 3600,
    });
  });
  afterAll(async () => {
    const everything = [...t.lines, ...runs.flatMap((r) => [r.stdout, r.stderr])].join('\n');
    expect(everything).not.toContain(CANARY);
    await t.close();
    await provider.stop();
  });

  const admin = { authorization: `Bearer ${ADMIN_TOKEN}` };
  const json = { ...admin, 'content-type': 'application/json' };
  const creds = `/v1/tenants/${tenant}/credentials`;
  // [what, method, path, headers, body, status, code]
  const HTTP: [string, string, string, Record<string, string>, string | undefined, number, string][] = [
    ['an unknown route', 'GET', '/nosuch', {}, undefined, 404, 'not_found'],
    [
      'text instead of JSON',
      'PUT',
      `${creds}/apikeyed`,
      { ...admin, 'content-type': 'text/plain' },
      'x',
      400,
      'bad_request',
    ],
    ['broken JSON', 'PUT', `${creds}/apikeyed`, json, '{"apiKey": ', 400, 'bad_request'],
    ['an empty body', 'PUT', `${creds}/apikeyed`, json, '{}', 400, 'validation_failed'],
    [
      'wrong types and a stray field',
      'PUT',
      `${creds}/oauthy`,
      json,
      JSON.stringify({ accessToken: 42, expiresIn: -1, scopes: 'a', extra: CANARY }),
      400,
      'validation_failed',
    ],
    [
      'an OAuth token for an API-key integration',
      'PUT',
      `${creds}/apikeyed`,
      json,
      JSON.stringify({ accessToken: CANARY }),
      400,
      'validation_failed',
    ],
    ['a bad tenant name', 'GET', '/v1/tenants/Bad!/credentials', admin, undefined, 400, 'invalid_name'],
    ['an unknown integration', 'PUT', `${creds}/nosuch`, json, '{"apiKey":"k"}', 404, 'unknown_integration'],
    ['no credential', 'GET', `${creds}/apikeyed`, admin, undefined, 404, 'credential_not_found'],
    ['a malformed key id', 'DELETE', '/v1/keys/deadbeef', admin, undefined, 400, 'validation_failed'],
    ['an unknown key id', 'DELETE', '/v1/keys/0123456789abcdef', admin, undefined, 404, 'key_not_found'],
    ['a key for nobody', 'POST', '/v1/keys', json, '{}', 400, 'validation_failed'],
    [
      'a key for a bad tenant name',
      'POST',
      '/v1/keys',
      json,
      JSON.stringify({ tenants: ['Bad!'] }),
      400,
      'validation_failed',
    ],
    [
      'a key for an unknown integration',
      'POST',
      '/v1/keys',
      json,
      JSON.stringify({ tenants: ['a'], integrations: ['nosuch'] }),
      400,
      'validation_failed',
    ],
    ['a page size of 0', 'GET', '/v1/credentials?limit=0', admin, undefined, 400, 'validation_failed'],
    [
      'an unknown status filter',
      'GET',
      '/v1/credentials?status=bogus',
      admin,
      undefined,
      400,
      'validation_failed',
    ],
    ['a made-up cursor', 'GET', '/v1/credentials?cursor=abc', admin, undefined, 400, 'validation_failed'],
    [
      'connect on an API-key integration',
      'POST',
      `/v1/tenants/${tenant}/connect/apikeyed`,
      admin,
      undefined,
      400,
      'connect_unsupported',
    ],
    [
      'a refresh the provider refuses',
      'POST',
      `${creds}/oauthy/refresh`,
      admin,
      undefined,
      401,
      'credential_refresh_failed',
    ],
    ['no admin token', 'GET', '/v1/keys', {}, undefined, 401, 'unauthorized'],
    [
      'a wrong admin token',
      'GET',
      '/v1/keys',
      { authorization: 'Bearer wrong-token' },
      undefined,
      401,
      'unauthorized',
    ],
    ['no Keygate key', 'GET', `/proxy/${tenant}/apikeyed/x`, {}, undefined, 401, 'unauthorized'],
    [
      'a path out of the base URL',
      'GET',
      `/proxy/${tenant}/apikeyed/a%2Fb`,
      { authorization: 'Bearer OWN_KEY' },
      undefined,
      400,
      'invalid_path',
    ],
    [
      'a stale OAuth callback',
      'GET',
      '/oauth/callback?state=nosuchstate&code=x',
      {},
      undefined,
      400,
      'oauth_state_invalid',
    ],
  ];

  it.each(HTTP)('%s: one sentence', async (_what, method, path, headers, body, status, code) => {
    const sent = Object.fromEntries(
      Object.entries(headers).map(([k, v]) => [k, v.replace('OWN_KEY', ownKey)]),
    );
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: sent,
      ...(body === undefined ? {} : { body }),
    });
    const text = await res.text();
    expect([res.status, res.headers.get('x-keygate-error')]).toEqual([status, code]);
    const message = res.headers.get('content-type')?.includes('json')
      ? (JSON.parse(text) as ErrorBody).error.message
      : undefined;
    if (message === undefined) return; // an HTML page for a browser (the OAuth callback)
    expect(messageProblems(message, { sentence: true }), message).toEqual([]);
    expect(text).not.toContain(CANARY);
  });

  it('a key used for another tenant: one sentence', async () => {
    const res = await fetch(`${t.url}/proxy/${tenant}/apikeyed/x`, {
      headers: { authorization: `Bearer ${otherKey}` },
    });
    const { error } = (await res.json()) as ErrorBody;
    expect([res.status, error.code]).toEqual([403, 'forbidden']);
    expect(messageProblems(error.message, { sentence: true })).toEqual([]);
  });

  it('names fields in words: the key id, the body field, the query parameter', async () => {
    const message = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${t.url}${path}`, {
        method,
        headers: body === undefined ? admin : json,
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return ((await res.json()) as ErrorBody).error.message;
    };
    expect(await message('DELETE', '/v1/keys/deadbeef')).toBe(
      'The request has invalid fields: the key id in the path must be a key id: 16 to 64 lowercase letters and digits (the part of kg_<id>.<secret> before the dot).',
    );
    expect(await message('POST', '/v1/keys', { tenants: ['Bad!'] })).toBe(
      'The request has invalid fields: tenants[0] must be * or a name: lowercase letters, digits, - and _, starting with a letter or digit, at most 63 characters.',
    );
    expect(await message('GET', '/v1/credentials?status=bogus')).toBe(
      'The request has invalid fields: the query parameter status must be one of active, expiring_soon, refresh_failed, needs_reauth.',
    );
    expect(await message('PUT', `${creds}/apikeyed`, {})).toBe(
      'The request has invalid fields: apiKey is required for an api_key integration.',
    );
  });

  // [what, args, exit status, the message's start]
  const CLI: [string, string[], number, string][] = [
    ['an unknown integration', ['connect', tenant, 'nosuch'], 1, 'unknown_integration: '],
    ['no credential', ['credentials', 'get', tenant, 'apikeyed'], 1, 'credential_not_found: '],
    ['a malformed key id', ['keys', 'revoke', 'deadbeef'], 2, '"deadbeef" is not a key id'],
    ['an unknown key id', ['keys', 'revoke', '0123456789abcdef'], 1, 'key_not_found: '],
    [
      'an unknown event type',
      ['events', '--type', 'nosuch'],
      2,
      'unknown event type "nosuch"; the types are refresh-scheduled, ',
    ],
    ['a key for nobody', ['keys', 'create'], 2, 'say which tenants the key is for'],
    ['a bad tenant name', ['credentials', 'get', 'Bad!', 'apikeyed'], 2, 'bad tenant name'],
    ['connect on an API-key integration', ['connect', tenant, 'apikeyed'], 1, 'connect_unsupported: '],
    [
      'a refresh the provider refuses',
      ['credentials', 'refresh', tenant, 'oauthy'],
      1,
      'credential_refresh_failed: ',
    ],
  ];

  it.each(CLI)('keygate, %s: one line saying what to do', async (_what, args, code, start) => {
    const run = await runCli(args, env);
    runs.push(run);
    expect([run.code, run.stdout]).toEqual([code, '']);
    const lines = run.stderr.trimEnd().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]?.startsWith(`keygate: ${start}`), lines[0]).toBe(true);
    expect(messageProblems(lines[0] as string)).toEqual([]);
  });

  // Regression: after a refused refresh the CLI said to set KEYGATE_ADMIN_TOKEN, though it was right.
  it('tells to reconnect, not to fix the admin token, when a refresh is refused', async () => {
    const run = await runCli(['credentials', 'refresh', tenant, 'oauthy'], env);
    runs.push(run);
    expect(run.stderr).toBe(
      `keygate: credential_refresh_failed: The credential could not be refreshed; the tenant must connect again with \`keygate connect ${tenant} oauthy\`\n`,
    );
  });
});
