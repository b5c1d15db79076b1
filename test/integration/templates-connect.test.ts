import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { jsonFetch } from '../support/http.ts';
import { startTestKeygate, type TestKeygate } from '../support/keygate.ts';
import { uniqueTenant } from '../support/store.ts';

const vault = inject('vault');
const ADMIN = 'admin-token-templates-0123456789';

// The authorization parameters a provider needs for a refresh token live in the
// template's authorizationUrl; Keygate's own OAuth parameters must join them, not replace them.
const EXPECTED: Record<string, Record<string, string>> = {
  google: { access_type: 'offline', prompt: 'consent' },
  atlassian: { audience: 'api.atlassian.com', prompt: 'consent' },
  dropbox: { token_access_type: 'offline' },
  notion: { owner: 'user' },
};

describe('catalogue templates in the connect flow', () => {
  let keygate: TestKeygate;
  const tenant = uniqueTenant('templates');

  beforeAll(async () => {
    const integrations = Object.keys(EXPECTED)
      .map((name) => `  ${name}: { template: ${name}, auth: { type: oauth2, clientId: ${name}-client } }`)
      .join('\n');
    keygate = await startTestKeygate(
      `admin: { token: ${ADMIN} }\noauth: { callbackUrl: "https://keygate.example/oauth/callback" }\nintegrations:\n${integrations}\n`,
      { VAULT_ADDR: vault.address, VAULT_TOKEN: vault.token },
    );
  });
  afterAll(() => keygate?.close());

  it("keeps each template's authorization parameters beside Keygate's own", async () => {
    for (const [name, params] of Object.entries(EXPECTED)) {
      const res = await jsonFetch(`${keygate.url}/v1/tenants/${tenant}/connect/${name}`, 'POST', {}, ADMIN);
      expect([name, res.status]).toEqual([name, 201]);
      const url = new URL(((await res.json()) as { authorizationUrl: string }).authorizationUrl);
      const query = Object.fromEntries(url.searchParams);
      expect(query).toMatchObject({
        ...params,
        response_type: 'code',
        client_id: `${name}-client`,
        redirect_uri: 'https://keygate.example/oauth/callback',
        code_challenge_method: 'S256',
      });
    }
  });
});
