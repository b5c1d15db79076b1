import { expect } from 'vitest';
import { ConfigError, parseConfig } from '../../src/config/load.ts';

/** The Vault token every config test needs, so that only the field under test is missing. */
export const CONFIG_ENV = { VAULT_TOKEN: 'vault-token-for-tests' };

/** The problems a configuration is rejected with; fails the test if it loads. */
export function problemsOf(
  text: string,
  environment: Record<string, string> = CONFIG_ENV,
): readonly string[] {
  try {
    parseConfig(text, environment);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems;
  }
  throw new Error('expected the configuration to be rejected');
}
