import { describe, expect, it } from 'vitest';
import { isKeygateError } from '../errors.ts';
import { checkReturnTo, withOutcome } from './return-to.ts';

const ALLOWED = [
  'https://app.example.com/settings/integrations',
  'http://127.0.0.1:3000/',
  'https://b.example.com',
];
const refused = (value: string) => {
  try {
    checkReturnTo(value, ALLOWED);
    return false;
  } catch (err) {
    return isKeygateError(err, 'return_url_not_allowed');
  }
};

describe('checkReturnTo', () => {
  it('takes URLs under an allowed origin and path, on a segment boundary', () => {
    expect(checkReturnTo('https://app.example.com/settings/integrations', ALLOWED)).toBe(
      'https://app.example.com/settings/integrations',
    );
    expect(checkReturnTo('https://app.example.com/settings/integrations/github?x=1#top', ALLOWED)).toBe(
      'https://app.example.com/settings/integrations/github?x=1#top',
    );
    expect(checkReturnTo('HTTPS://APP.example.com:443/settings/integrations', ALLOWED)).toBe(
      'https://app.example.com/settings/integrations',
    );
    expect(checkReturnTo('http://127.0.0.1:3000/anything', ALLOWED)).toBe('http://127.0.0.1:3000/anything');
    expect(checkReturnTo('https://b.example.com/x', ALLOWED)).toBe('https://b.example.com/x');
  });

  it('refuses other origins, paths beside the prefix, dot segments out of it and scheme tricks', () => {
    for (const value of [
      'https://app.example.com/settings/integrationsx',
      'https://app.example.com/settings/other',
      'https://app.example.com/settings/integrations/../../admin',
      'https://app.example.com/settings/integrations/%2e%2e/%2e%2e/admin',
      'https://app.example.com/settings/integrations%2F..%2F..%2Fadmin',
      'http://app.example.com/settings/integrations',
      'https://app.example.com:8443/settings/integrations',
      'https://app.example.com.evil.test/settings/integrations',
      'https://evil.test@app.example.com/settings/integrations',
      'https://app.example.com@evil.test/settings/integrations',
      'https://user:pw@app.example.com/settings/integrations',
      'https:\\\\evil.test/settings/integrations',
      'https://app.example.com\\@evil.test/settings/integrations',
      '//app.example.com/settings/integrations',
      '/settings/integrations',
      'javascript:alert(1)//https://app.example.com/settings/integrations',
      'data:text/html,https://app.example.com/settings/integrations',
      ' https://app.example.com/settings/integrations',
      'https://app.example.com/settings/integrations\n',
      'https://app.example.com/settings/\tintegrations',
      'http://127.0.0.1:3001/',
      'http://localhost:3000/',
      'not a url',
      '',
    ]) {
      expect([value, refused(value)]).toEqual([value, true]);
    }
  });

  it('refuses everything when nothing is allowed', () => {
    expect(() => checkReturnTo('https://app.example.com/', [])).toThrow();
  });
});

describe('withOutcome', () => {
  it('adds the outcome to the query, keeping the URL’s own query and fragment', () => {
    expect(withOutcome('https://a.test/x?tab=2#frag', { connected: 'github', account: 'default' })).toBe(
      'https://a.test/x?tab=2&connected=github&account=default#frag',
    );
  });
});
