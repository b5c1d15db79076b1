import { afterAll, beforeAll, describe, expect, it } from 'vitest';
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
  const tenant = uniqueTenant('messages');
  let refusedPort: number;

  beforeAll(async () => {
    refusedPort = await freePort(); // nothing listens there: connection refused
    t = await startProxyKeygate(`
integrations:
  refused: { baseUrl: "http://127.0.0.1:${refusedPort}/api", auth: { type: api_key } }
  nowhere: { baseUrl: "http://keygate-test.invalid", auth: { type: api_key } }
`);
  });
  afterAll(async () => {
    expect(t.lines.join('\n')).not.toContain(CANARY);
    await t.close();
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
    expect(bodies[2]?.error.details).toEqual(['body: must be object']);
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
