import { describe, expect, it } from 'vitest';
import type { Credential } from '../credentials/types.ts';
import { compileInjector } from './inject.ts';
import { computeForbidden, scrubResponseHeaders, stripQueryParam } from './scrub-response.ts';

const credential = { secret: { apiKey: 'k' } } as unknown as Credential;
const injected = (token: string, inject: Record<string, unknown>) => ({
  credential: { ...credential },
  token,
  plan: { injector: compileInjector({ baseUrl: 'http://x', auth: { type: 'api_key' }, inject }) },
});

describe('scrubResponseHeaders', () => {
  it('strips the injected parameter wherever a URL carries a query', () => {
    expect(stripQueryParam('/a/?key=s&b=1', 'key')).toBe('/a/?b=1');
    expect(stripQueryParam('/a/?key=s', 'key')).toBe('/a/');
    expect(stripQueryParam('</a?%6Bey=s>; rel=x, </b?c=1&key=t>', 'key')).toBe('</a>; rel=x, </b?c=1>');
    expect(stripQueryParam('no query', 'key')).toBe('no query');
  });

  it('drops a header holding the secret in any encoding and keeps the others', () => {
    const token = 'secret/with+chars=';
    const headers = {
      a: `x ${token}`,
      b: encodeURIComponent(token).toLowerCase(),
      c: Buffer.from(token).toString('base64'),
      d: 'harmless',
      e: ['ok', `bad ${token}`],
    };
    const dropped: string[] = [];
    scrubResponseHeaders(headers, injected(token, { header: 'x-api-key' }), (n) => dropped.push(n));
    expect(headers).toEqual({ d: 'harmless', e: ['ok'] });
    expect(dropped).toEqual(['a', 'b', 'c', 'e']);
  });

  it('looks for nothing in arbitrary headers when the secret is too short to search for', () => {
    const injector = compileInjector({ baseUrl: 'http://x', auth: { type: 'api_key' } });
    expect(computeForbidden('abc', injector).variants).toEqual([]);
    const headers = { location: '/x?key=abc', other: 'abc' };
    scrubResponseHeaders(headers, injected('abc', { query: 'key' }));
    expect(headers).toEqual({ location: '/x', other: 'abc' });
  });
});
