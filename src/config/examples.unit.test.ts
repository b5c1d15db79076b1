import { readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfigFile } from './load.ts';

const dir = resolve(import.meta.dirname, '../../examples');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));

// Every shipped example must load with nothing but Vault credentials in the environment
// (regression: `port: ${KEYGATE_PORT:-8080}` once gave "server.port: Expected integer").
describe('example configurations', () => {
  it('there are examples to check', () => expect(files.length).toBeGreaterThan(0));

  it.each(files)('%s loads on its own', (file) => {
    const config = loadConfigFile(join(dir, file), { VAULT_TOKEN: 'vault-token-for-tests' });
    expect(typeof config.server.port).toBe('number');
    expect(Object.keys(config.integrations).length).toBeGreaterThan(0);
  });
});
