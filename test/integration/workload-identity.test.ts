import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestKeygate } from '../support/keygate.ts';
import { startProxyKeygate, type ProxyAdmin } from '../support/proxy.ts';
import { uniqueTenant } from '../support/store.ts';
import { startTokenIssuer, type TokenIssuer } from '../support/token-issuer.ts';
import { selfSignedCert, startUpstream, type FakeUpstream } from '../support/upstream.ts';

/**
 * The workload-identity recipes of docs/identity.md, each against a local issuer that
 * signs tokens shaped like the real one's (header, claims, key id style, discovery):
 * a Kubernetes projected service-account token (no `typ`, RS256, the cluster's own CA,
 * tenant = namespace, account = service account), a GitHub Actions OIDC token (`typ: JWT`,
 * `x5t`, bound to one owner by `repository_owner_id`), and a SPIFFE JWT-SVID from SPIRE's
 * OIDC discovery provider (ES256, tenant and account from the SPIFFE ID).
 */
describe('workload identities', () => {
  let kubernetes: TokenIssuer;
  let github: TokenIssuer;
  let spire: TokenIssuer;
  let upstream: FakeUpstream;
  let keygate: TestKeygate & ProxyAdmin;
  const namespace = uniqueTenant('k8s');
  const org = uniqueTenant('gh');
  const trustTenant = uniqueTenant('spiffe');
  const hashed = (value: string) => `u-${createHash('sha256').update(value).digest('hex').slice(0, 32)}`;
  const spiffeId = `spiffe://example.org/tenant/${trustTenant}/workload/agent`;

  beforeAll(async () => {
    const clusterCa = selfSignedCert();
    kubernetes = await startTokenIssuer({
      alg: 'RS256',
      typ: null,
      kid: randomBytes(32).toString('base64url'),
      jwksPath: '/openid/v1/jwks',
      tls: clusterCa,
    });
    github = await startTokenIssuer({
      alg: 'RS256',
      typ: 'JWT',
      kid: randomBytes(20).toString('hex').toUpperCase(),
      jwksPath: '/.well-known/jwks',
    });
    spire = await startTokenIssuer({
      alg: 'ES256',
      typ: 'JWT',
      kid: randomBytes(16).toString('hex'),
      jwksPath: '/keys',
    });
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ key: req.headers['x-api-key'] }));
    });
    keygate = await startProxyKeygate(`
callers:
  issuers:
    # Kubernetes: the cluster's service-account issuer; its CA is the cluster's own.
    - issuer: ${kubernetes.issuer}
      caFile: ${clusterCa.certFile}
      audience: [keygate]
      tokenTypes: [""]
      algorithms: [RS256, ES256]
      tenant: { claim: [kubernetes.io, namespace] }
      account: { claim: [kubernetes.io, serviceaccount, name] }
      scopes: [keygate:proxy]
      advertise: false
    # GitHub Actions: any repository can mint a token for any audience, so bind the owner.
    - issuer: ${github.issuer}
      audience: [https://keygate.example.com]
      tokenTypes: [JWT]
      algorithms: [RS256]
      tenant: { value: ${org} }
      requiredClaims: { repository_owner_id: "9919" }
      account: { claim: repository, pattern: "^octo-org/([a-z0-9-]+)$" }
      scopes: [keygate:proxy:api]
      advertise: false
    # SPIFFE: SPIRE's OIDC discovery provider; tenant and account from the SPIFFE ID.
    - issuer: ${spire.issuer}
      audience: [keygate]
      tokenTypes: [JWT, ""]
      algorithms: [ES256, RS256]
      tenant: { claim: sub, pattern: "^spiffe://example\\\\.org/tenant/([a-z0-9_-]+)/" }
      account: { claim: sub }
      scopes: [keygate:proxy]
      advertise: false
integrations:
  api:
    baseUrl: ${upstream.origin}
    auth: { type: api_key }
    inject: { header: x-api-key, format: "{token}" }
`);
    const put = (tenant: string, account: string) =>
      keygate.admin('PUT', `/v1/tenants/${tenant}/credentials/api/accounts/${account}`, {
        apiKey: `key-${account}`,
      });
    for (const [tenant, account] of [
      [namespace, 'agent'],
      [org, 'deploy-bot'],
      [trustTenant, hashed(spiffeId)],
    ] as const) {
      expect((await put(tenant, account)).status).toBe(200);
    }
  });
  afterAll(async () => {
    await keygate?.close();
    await upstream?.stop();
    await Promise.all([kubernetes, github, spire].map((i) => i?.stop()));
  });

  async function call(tenant: string, token: string) {
    const res = await fetch(`${keygate.url}/proxy/${tenant}/api/v1/things`, {
      headers: { authorization: `Bearer ${token}` },
    });
    return { status: res.status, code: res.headers.get('x-keygate-error'), body: (await res.json()) as any };
  }
  const now = () => Math.floor(Date.now() / 1000);

  function serviceAccountToken(ns: string, sa: string, aud = ['keygate']) {
    const podUid = randomUUID();
    return kubernetes.sign({
      aud,
      exp: now() + 3600,
      iat: now(),
      nbf: now(),
      jti: randomUUID(),
      sub: `system:serviceaccount:${ns}:${sa}`,
      'kubernetes.io': {
        namespace: ns,
        node: { name: 'node-1', uid: randomUUID() },
        pod: { name: `${sa}-7d9c5b`, uid: podUid },
        serviceaccount: { name: sa, uid: randomUUID() },
      },
    });
  }

  function actionsToken(claims: Record<string, unknown> = {}) {
    return github.sign(
      {
        jti: randomUUID(),
        sub: 'repo:octo-org/deploy-bot:ref:refs/heads/main',
        aud: 'https://keygate.example.com',
        ref: 'refs/heads/main',
        sha: randomBytes(20).toString('hex'),
        repository: 'octo-org/deploy-bot',
        repository_owner: 'octo-org',
        repository_owner_id: '9919',
        repository_id: '74',
        repository_visibility: 'private',
        run_id: '5',
        run_number: '1',
        run_attempt: '1',
        actor: 'octocat',
        actor_id: '583231',
        workflow: 'deploy',
        event_name: 'push',
        ref_type: 'branch',
        job_workflow_ref: 'octo-org/deploy-bot/.github/workflows/deploy.yml@refs/heads/main',
        runner_environment: 'github-hosted',
        nbf: now() - 5,
        ...claims,
      },
      { header: { x5t: randomBytes(20).toString('base64url') } },
    );
  }

  it('Kubernetes: a projected service-account token; tenant = namespace, account = service account', async () => {
    expect(await call(namespace, await serviceAccountToken(namespace, 'agent'))).toMatchObject({
      status: 200,
      body: { key: 'key-agent' },
    });
    // Another namespace's workload is another tenant; a token for another audience is no token for Keygate.
    expect(await call(namespace, await serviceAccountToken(`${namespace}-x`, 'agent'))).toMatchObject({
      status: 403,
      code: 'forbidden',
    });
    expect(
      await call(
        namespace,
        await serviceAccountToken(namespace, 'agent', ['https://kubernetes.default.svc']),
      ),
    ).toMatchObject({
      status: 401,
      code: 'invalid_token',
    });
    expect(kubernetes.fetches).toEqual({ 'openid-configuration': 1, jwks: 1 });
  });

  it('GitHub Actions: bound to one owner by repository_owner_id; the repository names the account', async () => {
    expect(await call(org, await actionsToken())).toMatchObject({
      status: 200,
      body: { key: 'key-deploy-bot' },
    });
    const foreign = await call(
      org,
      await actionsToken({
        repository_owner: 'octo-org',
        repository_owner_id: '666',
        repository: 'octo-org/deploy-bot',
      }),
    );
    expect(foreign).toMatchObject({ status: 401, code: 'invalid_token' });
    expect(foreign.body.error.message).toMatch(/repository_owner_id/);
    expect(await call(org, await actionsToken({ aud: 'https://github.com/octo-org' }))).toMatchObject({
      status: 401,
      code: 'invalid_token',
    });
  });

  it('SPIFFE: a JWT-SVID; tenant from the SPIFFE ID, account its hash', async () => {
    const svid = (sub: string) => spire.sign({ sub, aud: ['keygate'], exp: now() + 300, iat: now() });
    expect(await call(trustTenant, await svid(spiffeId))).toMatchObject({
      status: 200,
      body: { key: `key-${hashed(spiffeId)}` },
    });
    expect(
      await call(trustTenant, await svid(`spiffe://evil.org/tenant/${trustTenant}/workload/agent`)),
    ).toMatchObject({
      status: 401,
      code: 'invalid_token',
    });
  });

  it('workload issuers are not advertised to OAuth clients', async () => {
    const res = await fetch(`${keygate.url}/.well-known/oauth-protected-resource/proxy/${org}/api`);
    const metadata = (await res.json()) as Record<string, unknown>;
    expect(metadata).not.toHaveProperty('authorization_servers');
  });
});
