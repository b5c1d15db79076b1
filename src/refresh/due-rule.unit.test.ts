import { describe, expect, it } from 'vitest';
import { parseConfig } from '../config/load.ts';
import { DueRule } from './due-rule.ts';
import type { Trackable } from './trackable.ts';

const config = parseConfig(
  `refresh: { bufferSeconds: 120 }
integrations:
  crm:
    baseUrl: https://crm.example.com
    auth: { type: oauth2, tokenUrl: https://crm.example.com/token, clientId: c }
  m2m:
    baseUrl: https://m2m.example.com
    auth: { type: oauth2_client_credentials, tokenUrl: https://m2m.example.com/token, clientId: m }
  keyed:
    baseUrl: https://keyed.example.com
    auth: { type: api_key }`,
  { VAULT_TOKEN: 'root' },
);
const NOW = Date.parse('2026-01-01T00:00:00Z');
const MIN = 60_000;
const rule = new DueRule(config, () => NOW);

const oauth = (extra: Partial<Trackable> = {}): Trackable => ({
  tenant: 'acme',
  integration: 'crm',
  account: 'default',
  authType: 'oauth2',
  status: 'active',
  expiresAt: new Date(NOW + 60 * MIN).toISOString(),
  ...extra,
});

describe('DueRule', () => {
  it('renews OAuth credentials of integrations configured as OAuth, nothing else', () => {
    expect(rule.schedules(oauth())).toBe(true);
    expect(rule.schedules(oauth({ integration: 'm2m', authType: 'oauth2_client_credentials' }))).toBe(true);
    expect(rule.schedules(oauth({ authType: 'api_key' }))).toBe(false);
    // Stored before the configuration dropped the integration, or changed it to an API key.
    expect(rule.schedules(oauth({ integration: 'gone' }))).toBe(false);
    expect(rule.schedules(oauth({ integration: 'keyed' }))).toBe(false);
  });

  it('is due refresh.bufferSeconds before expiry, from the clock it was given', () => {
    expect(rule.dueOf(oauth())).toBe(NOW + 58 * MIN);
    expect(rule.dueOf(oauth({ expiresAt: new Date(NOW - MIN).toISOString() }))).toBe(NOW);
    // A 90 s token obtained now is renewed halfway through its life, not at once.
    expect(
      rule.dueOf(
        oauth({
          expiresAt: new Date(NOW + 90_000).toISOString(),
          lastRefreshedAt: new Date(NOW).toISOString(),
        }),
      ),
    ).toBe(NOW + 45_000);
    expect(rule.dueOf(oauth({ status: 'needs_reauth' }))).toBeUndefined();
    expect(rule.dueOf(oauth({ expiresAt: null }))).toBeUndefined();
  });
});
