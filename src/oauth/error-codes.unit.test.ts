import { describe, expect, it } from 'vitest';
import { PROVIDER_ERROR, oauthErrorCode } from './error-codes.ts';

describe('oauthErrorCode', () => {
  it('passes registered codes as they are', () => {
    for (const code of ['invalid_grant', 'invalid_client', 'use_dpop_nonce', 'invalid_target', 'slow_down'])
      expect(oauthErrorCode(code)).toBe(code);
  });

  it('maps anything else to provider_error: other spellings, markup, prototype names, non-strings', () => {
    for (const error of [
      'INVALID_GRANT',
      ' invalid_grant',
      'invalid_grant\n',
      '<img src=x onerror=alert(1)>',
      'constructor',
      '__proto__',
      '',
      undefined,
      null,
      42,
      ['invalid_grant'],
    ]) {
      expect(oauthErrorCode(error)).toBe(PROVIDER_ERROR);
    }
  });
});
