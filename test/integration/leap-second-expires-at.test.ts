import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { credentialRef } from '../../src/credentials/ref.ts';

// Issue 8.8: `2016-12-31T23:59:60Z` passes the date-time format and is an Invalid Date: a 500.
const tenant = uniqueTenant('leap');

describe('a leap-second expiresAt', () => {
  let keygate: TestKeygate & ProxyAdmin;
  beforeAll(async () => {
    keygate = await startProxyKeygate(`
integrations:
  github: { template: github, auth: { type: oauth2, clientId: c } }
`);
  });
  afterAll(async () => {
    await keygate?.close();
  });

  it('is a 400 validation_failed naming the field, and nothing is stored', async () => {
    const res = await keygate.admin('PUT', `/v1/tenants/${tenant}/credentials/github`, {
      accessToken: 'tok',
      expiresAt: '2016-12-31T23:59:60Z',
    });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-keygate-error')).toBe('validation_failed');
    const body = (await res.json()) as { error: { details: string[] } };
    expect(body.error.details[0]).toMatch(/^body\.expiresAt:/);
    expect(await keygate.store.has(credentialRef(tenant, 'github'))).toBe(false);
  });
});
