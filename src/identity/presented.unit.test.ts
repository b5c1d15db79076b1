import { describe, expect, it } from 'vitest';
import { presentedCredential } from './presented.ts';

const KEY = `kg_${'a'.repeat(16)}.${'b'.repeat(43)}`;
const JWT = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln';

describe('presentedCredential', () => {
  it('tells a Keygate key from a JWT by shape, in Authorization, x-api-key or Proxy-Authorization', () => {
    expect(presentedCredential({ authorization: `Bearer ${KEY}` })).toEqual({ kind: 'key', value: KEY });
    expect(presentedCredential({ authorization: `bearer  ${JWT} ` })).toEqual({ kind: 'token', value: JWT });
    expect(presentedCredential({ 'x-api-key': ` ${JWT}` })).toEqual({ kind: 'token', value: JWT });
    expect(presentedCredential({ 'proxy-authorization': `Bearer ${KEY}` })).toEqual({
      kind: 'key',
      value: KEY,
    });
  });

  it('takes the first recognised one: Authorization, then x-api-key, then Proxy-Authorization', () => {
    expect(presentedCredential({ authorization: `Bearer ${JWT}`, 'x-api-key': KEY }).kind).toBe('token');
    expect(presentedCredential({ authorization: 'Bearer opaque', 'x-api-key': KEY }).kind).toBe('key');
  });

  it('an opaque bearer is unrecognised; an upstream key in x-api-key alone is no credential', () => {
    expect(presentedCredential({ authorization: 'Bearer sk-live-123' })).toEqual({ kind: 'unrecognised' });
    expect(presentedCredential({ 'x-api-key': 'sk-live-123' })).toEqual({ kind: 'none' });
    expect(presentedCredential({ authorization: 'Basic dXNlcjpwYXNz' })).toEqual({ kind: 'none' });
    expect(presentedCredential({})).toEqual({ kind: 'none' });
  });
});
