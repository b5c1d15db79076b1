import { describe, expect, it } from 'vitest';
import { isKeygateError } from '../errors.ts';
import { CRAFTED_PATHS } from '../../test/support/crafted-paths.ts';
import { assertWithinBase, checkedPathFor, splitProxyUrl, upstreamPath, withoutQueryParam } from './path.ts';

describe('upstreamPath', () => {
  it('appends the caller path to the base path, as encoded', () => {
    expect(upstreamPath('/v1', '/repos/a%20b/issues')).toBe('/v1/repos/a%20b/issues');
    expect(upstreamPath('', '/x')).toBe('/x');
    expect(upstreamPath('', '')).toBe('/');
    expect(upstreamPath('/v1', '')).toBe('/v1');
    expect(upstreamPath('/v1/', '/x/')).toBe('/v1/x/');
    expect(upstreamPath('/api', '/chat.postMessage')).toBe('/api/chat.postMessage');
    expect(upstreamPath('', '/files/report...v2')).toBe('/files/report...v2');
    expect(upstreamPath('', '/[...slug]')).toBe('/[...slug]');
  });

  it.each(CRAFTED_PATHS)('refuses %s', (path) => {
    let error: unknown;
    try {
      upstreamPath('/base', path);
    } catch (err) {
      error = err;
    }
    expect(isKeygateError(error, 'invalid_path')).toBe(true);
  });
});

describe('assertWithinBase', () => {
  it('accepts paths under the base and refuses the rest', () => {
    expect(() => assertWithinBase('http://a.test', '/v1', '/v1/x')).not.toThrow();
    expect(() => assertWithinBase('http://a.test', '', '/x')).not.toThrow();
    expect(() => assertWithinBase('http://a.test', '/v1', '/v1x')).toThrow();
    expect(() => assertWithinBase('http://a.test', '/v1', '/v1/%2e%2e/x')).toThrow();
  });
});

describe('splitProxyUrl', () => {
  it('keeps the rest and the query raw', () => {
    expect(splitProxyUrl('/proxy/acme/github/a%2Fb?x=1&y=%20')).toEqual({
      tenant: 'acme',
      integration: 'github',
      rest: '/a%2Fb',
      query: 'x=1&y=%20',
    });
    expect(splitProxyUrl('/proxy/acme/github')).toMatchObject({ rest: '', query: '' });
    expect(splitProxyUrl('/v1/keys')).toBeUndefined();
  });
});

describe('withoutQueryParam', () => {
  it('removes every copy of the injected parameter, encoded or not', () => {
    expect(withoutQueryParam('a=1&key=x&b=2&k%65y=y&key', 'key')).toBe('a=1&b=2');
    expect(withoutQueryParam('', 'key')).toBe('');
    expect(withoutQueryParam('keys=1', 'key')).toBe('keys=1');
  });
});

describe('checkedPathFor', () => {
  it('gives what the checks give, refuses the same paths every time', () => {
    const pathFor = checkedPathFor('https://a.test', '/v1');
    expect(pathFor('/messages')).toBe('/v1/messages');
    expect(pathFor('/messages')).toBe('/v1/messages');
    for (let i = 0; i < 2; i += 1) expect(() => pathFor('/%2e%2e/x')).toThrow(/dot segment/);
    for (let i = 0; i < 1100; i += 1) expect(pathFor(`/items/${i}`)).toBe(`/v1/items/${i}`);
  });
});
