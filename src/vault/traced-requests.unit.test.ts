import { describe, expect, it } from 'vitest';
import { vaultPathTemplate } from './traced-requests.ts';

describe('vaultPathTemplate', () => {
  it('keeps the mount and operation, never the rest of the path or a query', () => {
    expect(vaultPathTemplate('/secret/data/keygate/credentials/acme/github')).toBe('/v1/secret/data/{path}');
    expect(vaultPathTemplate('/secret/data/keygate/oauth-state/s3cr3t-state')).toBe('/v1/secret/data/{path}');
    expect(vaultPathTemplate('/transit/decrypt/keygate-acme')).toBe('/v1/transit/decrypt/{path}');
    expect(vaultPathTemplate('/secret/metadata/keygate/keys/?list=1')).toBe('/v1/secret/metadata/{path}');
  });

  it('keeps auth and sys paths, which name no record', () => {
    expect(vaultPathTemplate('/auth/token/lookup-self')).toBe('/v1/auth/token/lookup-self');
    expect(vaultPathTemplate('/auth/kubernetes/login')).toBe('/v1/auth/kubernetes/login');
    expect(vaultPathTemplate('/sys/health?standbyok=true')).toBe('/v1/sys/health');
  });
});
