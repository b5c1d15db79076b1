import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from './load.ts';

const env = { VAULT_TOKEN: 'test' };
const problemsOf = (yaml: string) => {
  try {
    parseConfig(yaml, env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
};

describe('callers configuration', () => {
  it('defaults: no issuers; issuers get typ at+jwt, advertised, the asymmetric allow-list', () => {
    expect(parseConfig('', env).callers).toMatchObject({
      issuers: [],
      clockSkewSeconds: 30,
      maxTokenBytes: 8192,
      jwks: { timeoutMs: 5000, cooldownSeconds: 30, maxAgeSeconds: 600 },
    });
    const { issuers } = parseConfig(
      'callers: { issuers: [{ issuer: "https://id.example.com", tenant: { claim: org } }] }',
      env,
    ).callers;
    expect(issuers[0]).toEqual({
      issuer: 'https://id.example.com',
      tenant: { claim: 'org' },
      tokenTypes: ['at+jwt'],
      advertise: true,
    });
  });

  it('refuses HMAC and none among algorithms, and names the field', () => {
    for (const alg of ['HS256', 'none']) {
      const problems = problemsOf(
        `callers: { issuers: [{ issuer: "https://id.example.com", tenant: { value: acme }, algorithms: [${alg}] }] }`,
      );
      expect(problems.join('\n')).toMatch(/callers\.issuers\.0\.algorithms/);
    }
  });

  it('refuses duplicate issuers, patterns that do not compile or capture, and a bad tenant value', () => {
    const problems = problemsOf(`
callers:
  issuers:
    - { issuer: "http://a.example", tenant: { claim: sub, pattern: "^(unclosed" } }
    - { issuer: "http://a.example", jwksUrl: "http://localhost:9/keys", tenant: { value: acme }, account: { claim: sub, pattern: "^no-group$" } }
`);
    expect(problems).toEqual([
      'callers.issuers.0.issuer: must be https:// (http:// only on loopback)',
      'callers.issuers.0.tenant.pattern: not a valid regular expression',
      'callers.issuers.1.issuer: http://a.example is listed twice',
      'callers.issuers.1.issuer: must be https:// (http:// only on loopback)',
      'callers.issuers.1.account.pattern: needs a capture group, whose match is the value',
    ]);
    expect(
      problemsOf(
        'callers: { issuers: [{ issuer: "https://a.example", tenant: { value: "Not A Name" } }] }',
      ).join(),
    ).toMatch(/callers\.issuers\.0\.tenant/);
  });

  it('with issuers, wants Keygate at the root of its public origin', () => {
    const issuers = 'issuers: [{ issuer: "https://a.example", tenant: { value: acme } }]';
    expect(problemsOf(`reauth: { publicUrl: "https://x.example/keygate" }\ncallers: { ${issuers} }`)).toEqual(
      [
        'callers.publicUrl: access tokens need Keygate at the root of an origin; set callers.publicUrl to the origin (reauth.publicUrl https://x.example/keygate has a path)',
      ],
    );
    expect(
      problemsOf(
        `reauth: { publicUrl: "https://x.example/keygate" }\ncallers: { publicUrl: "https://x.example", ${issuers} }`,
      ),
    ).toEqual([]);
    expect(problemsOf('reauth: { publicUrl: "https://x.example/keygate" }')).toEqual([]);
  });
});
