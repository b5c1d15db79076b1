import { describe, expect, it } from 'vitest';
import { audiencesOf, claimAt, compileClaimSource, normaliseTyp, scopesOf } from './claims.ts';

describe('claims', () => {
  const k8s = {
    sub: 'system:serviceaccount:acme:agent',
    'kubernetes.io': { namespace: 'acme', serviceaccount: { name: 'agent' } },
    n: 42,
  };

  it('reads a claim by name or by path, numbers as strings', () => {
    expect(claimAt(k8s, ['kubernetes.io', 'namespace'])).toBe('acme');
    expect(claimAt(k8s, ['kubernetes.io', 'serviceaccount', 'name'])).toBe('agent');
    expect(claimAt(k8s, ['kubernetes.io', 'missing', 'x'])).toBeUndefined();
    expect(compileClaimSource({ claim: 'n' })(k8s)).toBe('42');
    expect(compileClaimSource({ claim: 'missing' })(k8s)).toBeUndefined();
    expect(compileClaimSource({ claim: ['kubernetes.io'] })(k8s)).toBeUndefined(); // an object is no value
  });

  it('takes the first capture group of a pattern', () => {
    const tenant = compileClaimSource({
      claim: 'sub',
      pattern: '^spiffe://example\\.org/tenant/([a-z0-9-]+)/',
    });
    expect(tenant({ sub: 'spiffe://example.org/tenant/acme/agent' })).toBe('acme');
    expect(tenant({ sub: 'spiffe://other.org/tenant/acme/agent' })).toBeUndefined();
  });

  it('collects scopes from scope, scp and the issuer’s grants', () => {
    expect([...scopesOf({ scope: 'a  b', scp: ['c', 7, ''] }, ['d'])].sort()).toEqual(['a', 'b', 'c', 'd']);
    expect([...scopesOf({ scp: 'x y' })]).toEqual(['x', 'y']);
    expect(scopesOf({ scope: 12 }).size).toBe(0);
  });

  it('reads aud as a list and compares typ as RFC 7515 says', () => {
    expect(audiencesOf('a')).toEqual(['a']);
    expect(audiencesOf(['a', 3, 'b'])).toEqual(['a', 'b']);
    expect(audiencesOf(undefined)).toEqual([]);
    expect(normaliseTyp('AT+JWT')).toBe(normaliseTyp('application/at+jwt'));
    expect(normaliseTyp('JWT')).not.toBe(normaliseTyp('at+jwt'));
  });
});
