import { describe, expect, it } from 'vitest';
import { CONFIG_ENV, problemsOf } from '../../test/support/config-problems.ts';
import { parseConfig } from './load.ts';

const SECRET = 'an-application-secret-of-32-chars-or-more';

describe('reauth.identity', () => {
  it('takes the application’s assertion (url + secret) or an OpenID sign-in (oidc)', () => {
    const vouching = parseConfig(
      `reauth: { identity: { url: "https://app.example/k", secret: ${SECRET} } }\n`,
      CONFIG_ENV,
    );
    expect(vouching.reauth.identity).toEqual({ url: 'https://app.example/k', secret: SECRET });
    const oidc = parseConfig(
      'reauth: { identity: { oidc: { issuer: "https://id.example", clientId: keygate } } }\n',
      CONFIG_ENV,
    );
    expect(oidc.reauth.identity?.oidc).toEqual({ issuer: 'https://id.example', clientId: 'keygate' });
  });

  it('names what is wrong: both modes, half a mode, nothing, an unknown field', () => {
    const both = problemsOf(
      `reauth: { identity: { url: "https://app.example/k", secret: ${SECRET}, oidc: { issuer: "https://id.example", clientId: k } } }\n`,
    );
    expect(both).toEqual([
      'reauth.identity: set url and secret (the application vouches) or oidc (Keygate signs the user in), not both',
    ]);
    expect(problemsOf('reauth: { identity: { url: "https://app.example/k" } }\n')).toEqual([
      'reauth.identity: url and secret go together',
    ]);
    expect(problemsOf('reauth: { identity: {} }\n')).toEqual([
      'reauth.identity: set url and secret, or oidc',
    ]);
    const unknown = problemsOf(
      'reauth: { identity: { oidc: { issuer: "https://id.example", clientId: k, scope: x } } }\n',
    );
    expect(unknown.some((p) => p.startsWith('reauth.identity.oidc'))).toBe(true);
    const noClient = problemsOf('reauth: { identity: { oidc: { issuer: "https://id.example" } } }\n');
    expect(noClient.some((p) => p.startsWith('reauth.identity.oidc'))).toBe(true);
  });

  it('wants the issuer over https, except on loopback', () => {
    expect(
      problemsOf('reauth: { identity: { oidc: { issuer: "http://id.example", clientId: k } } }\n'),
    ).toEqual(['reauth.identity.oidc.issuer: must be https:// (http:// only on loopback)']);
    for (const issuer of ['http://127.0.0.1:9000', 'http://localhost:9000/realms/x', 'http://[::1]:9000']) {
      const config = parseConfig(
        `reauth: { identity: { oidc: { issuer: "${issuer}", clientId: k } } }\n`,
        CONFIG_ENV,
      );
      expect(config.reauth.identity?.oidc?.issuer).toBe(issuer);
    }
  });
});
