import { describe, expect, it } from 'vitest';
import { CONFIG_ENV, problemsOf } from '../../test/support/config-problems.ts';
import { parseConfig } from './load.ts';

const env = CONFIG_ENV;

describe('typed ${VAR} substitution', () => {
  it('gives a number field a number, from the variable or its default', () => {
    const text = 'server: { port: "${PORT_UNDER_TEST:-8080}", shutdownGraceMs: "${GRACE}" }\n';
    expect(parseConfig(text, { ...env, GRACE: '250' }).server).toMatchObject({
      port: 8080,
      shutdownGraceMs: 250,
    });
    expect(parseConfig(text, { ...env, GRACE: '1', PORT_UNDER_TEST: '9191' }).server.port).toBe(9191);
    expect(parseConfig('cache: { ttlSeconds: "${TTL}" }', { ...env, TTL: '1.5' }).cache.ttlSeconds).toBe(1.5);
  });

  it('types fields inside records and templates too', () => {
    const config = parseConfig(
      'integrations:\n  openai:\n    template: openai\n    upstream: { connections: "${CONNS:-16}" }\n',
      env,
    );
    expect(config.integrations['openai']?.upstream?.connections).toBe(16);
  });

  it('names the field and the variable when the value is not of its type', () => {
    expect(problemsOf('server: { port: "${PORT_UNDER_TEST}" }', { ...env, PORT_UNDER_TEST: 'http' })).toEqual(
      ['server.port: PORT_UNDER_TEST gave "http", expected an integer'],
    );
    expect(problemsOf('server: { port: "${P:-80.5}" }', env)).toEqual([
      'server.port: P gave "80.5", expected an integer',
    ]);
  });

  it('leaves string fields as strings, even when they look like numbers', () => {
    const config = parseConfig(
      'integrations:\n  anthropic:\n    template: anthropic\n    headers: { anthropic-version: "${AV:-2023}" }\n',
      env,
    );
    expect(config.integrations['anthropic']?.headers?.['anthropic-version']).toBe('2023');
    expect(parseConfig('admin: { token: "${TOK}" }', { ...env, TOK: '1234567890123456' }).admin.token).toBe(
      '1234567890123456',
    );
  });
});
