import { describe, expect, it } from 'vitest';
import { callerResponseHeaders, planHeaders, upstreamRequestHeaders } from './headers.ts';
import { compileInjector } from './inject.ts';

const integration = (inject?: Record<string, unknown>) =>
  ({ baseUrl: 'https://a.test', auth: { type: 'api_key' }, ...(inject ? { inject } : {}) }) as never;

describe('injection', () => {
  it('defaults to Authorization: Bearer', () => {
    expect(compileInjector(integration()).value('t')).toBe('Bearer t');
    expect(compileInjector(integration({ header: 'X-Api-Key' })).header).toBe('x-api-key');
    expect(compileInjector(integration({ header: 'X-Api-Key' })).value('t')).toBe('t');
    expect(compileInjector(integration({ basic: { username: 'api', password: '{token}' } })).value('t')).toBe(
      `Basic ${Buffer.from('api:t').toString('base64')}`,
    );
  });
});

describe('upstreamRequestHeaders', () => {
  it('removes caller credentials and hop-by-hop headers, adds forced and injected headers', () => {
    const plan = planHeaders(compileInjector(integration({ header: 'xi-api-key' })), {}, { Accept: 'x/y' });
    const out = upstreamRequestHeaders(
      {
        authorization: 'Bearer kg_x.y',
        'x-api-key': 'kg_x.y',
        'proxy-authorization': 'Bearer kg_x.y',
        'xi-api-key': 'caller',
        connection: 'close, x-private',
        'x-private': '1',
        'transfer-encoding': 'chunked',
        upgrade: 'websocket',
        expect: '100-continue',
        accept: 'caller/accept',
        'x-kept': 'k',
        host: 'a.test',
      },
      plan,
      'secret',
      12,
    );
    expect(out).toEqual({
      accept: 'x/y',
      'x-kept': 'k',
      host: 'a.test',
      'content-length': '12',
      'xi-api-key': 'secret',
    });
  });

  it("sends a default header only when the caller sent none; a forced one replaces the caller's", () => {
    const plan = planHeaders(
      compileInjector(integration({ header: 'x-api-key' })),
      { 'Anthropic-Version': '2023-06-01', 'X-Both': 'default', 'X-Api-Key': 'not-the-key' },
      { 'X-Both': 'forced', 'X-Forced': 'f' },
    );
    const none = upstreamRequestHeaders({ 'x-forced': 'caller' }, plan, 'secret', undefined);
    expect(none).toEqual({
      'anthropic-version': '2023-06-01',
      'x-both': 'forced',
      'x-forced': 'f',
      'x-api-key': 'secret',
    });
    const own = upstreamRequestHeaders(
      { 'anthropic-version': '2099-01-01', 'x-both': 'caller' },
      plan,
      'secret',
      undefined,
    );
    expect(own['anthropic-version']).toBe('2099-01-01');
    expect(own['x-both']).toBe('forced');
    expect(own['x-api-key']).toBe('secret');
  });

  it('keeps response headers except hop-by-hop and x-keygate-*', () => {
    expect(
      callerResponseHeaders({
        'content-type': 'a/b',
        connection: 'x-a',
        'x-a': '1',
        'x-keygate-error': 'no',
        trailer: 'x',
      }),
    ).toEqual({ 'content-type': 'a/b' });
  });
});
