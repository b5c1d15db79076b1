import { describe, expect, it } from 'vitest';
import { CONFIG_ENV } from '../../test/support/config-problems.ts';
import { parseConfig } from '../config/load.ts';
import { linkBinding, vouching } from './binding.ts';

const config = (identity: string) => parseConfig(`reauth: { identity: ${identity} }\n`, CONFIG_ENV);
const SECRET = 'an-application-secret-of-32-chars-or-more';

describe('how a connect link is bound', () => {
  it('by the sign-in for a link made for a user, by the code for one made without, under oidc', () => {
    const oidc = config('{ oidc: { issuer: "https://id.example", clientId: k } }');
    expect(linkBinding(oidc, { subject: 'hash' })).toBe('sign-in');
    expect(linkBinding(oidc, { subject: undefined })).toBe('code');
    expect(vouching(oidc)).toBeUndefined();
  });

  it('by the application’s assertion, or the code when there is no reauth.identity', () => {
    const app = config(`{ url: "https://app.example/k", secret: ${SECRET} }`);
    expect(linkBinding(app, { subject: 'hash' })).toBe('assertion');
    expect(linkBinding(app, { subject: undefined })).toBe('assertion');
    expect(vouching(app)).toEqual({ url: 'https://app.example/k', secret: SECRET });
    const none = parseConfig('{}\n', CONFIG_ENV);
    expect(linkBinding(none, { subject: 'hash' })).toBe('code');
  });
});
