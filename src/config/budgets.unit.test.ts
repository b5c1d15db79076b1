import { describe, expect, it } from 'vitest';
import { problemsOf } from '../../test/support/config-problems.ts';
import { budgetOf } from './budgets.ts';
import { parseConfig } from './load.ts';

const env = { VAULT_TOKEN: 'vault-token-for-tests' };

describe('budget and tenants configuration', () => {
  it('fills in the defaults of a budget, and has none without one or with headers: none', () => {
    const config = parseConfig(
      `integrations:
  a: { baseUrl: "http://a", auth: { type: api_key }, budget: {} }
  b: { baseUrl: "http://b", auth: { type: api_key }, budget: { headers: ietf, maxWaitMs: 0, fairShare: false } }
  c: { baseUrl: "http://c", auth: { type: api_key } }
  d: { baseUrl: "http://d", auth: { type: api_key }, budget: { headers: none } }
`,
      env,
    );
    const of = (name: string) => budgetOf(config.integrations[name] ?? {});
    expect(of('a')).toEqual({ headers: 'auto', maxWaitMs: 10_000, fairShare: true });
    expect(of('b')).toEqual({ headers: 'ietf', maxWaitMs: 0, fairShare: false });
    expect(of('c')).toBeUndefined();
    expect(of('d')).toBeUndefined();
  });

  it('names every bad field of a budget and of tenants', () => {
    expect(
      problemsOf(`integrations:
  a: { baseUrl: "http://a", auth: { type: api_key }, budget: { headers: github, maxWaitMs: -1, fair: true } }
tenants:
  acme: { limits: { requestsPerMinute: 0 } }
  Not_A_Name: {}
`),
    ).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^integrations\.a\.budget\.headers/),
        expect.stringMatching(/^integrations\.a\.budget\.maxWaitMs/),
        expect.stringMatching(/^integrations\.a\.budget\.fair/),
        expect.stringMatching(/^tenants\.acme\.limits\.requestsPerMinute/),
        expect.stringMatching(/^tenants\.Not_A_Name/),
      ]),
    );
  });

  it('reads per-tenant limits', () => {
    const config = parseConfig('tenants:\n  acme: { limits: { requestsPerMinute: 600 } }\n', env);
    expect(config.tenants).toEqual({ acme: { limits: { requestsPerMinute: 600 } } });
    expect(parseConfig('', env).tenants).toEqual({});
  });
});
