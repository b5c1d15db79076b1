import { describe, expect, it } from 'vitest';
import { generateKey, hashSecret, newSalt, parseKey, secretMatches } from './key-format.ts';

describe('Keygate key format', () => {
  it('generates keys that parse back into their parts', () => {
    const { id, secret, key } = generateKey();
    expect(key).toMatch(/^kg_[a-z0-9]{16}\.[A-Za-z0-9_-]{43}$/);
    expect(parseKey(key)).toEqual({ id, secret });
  });

  it('refuses anything else', () => {
    for (const bad of [
      '',
      'kg_',
      'kg_abc.def',
      'Bearer kg_x.y',
      `kg_${'a'.repeat(16)}`,
      `kg_UPPERCASE0000000.${'x'.repeat(40)}`,
    ]) {
      expect(parseKey(bad)).toBeUndefined();
    }
  });

  it('matches a secret only against its own digest and salt', () => {
    const salt = newSalt();
    const digest = hashSecret('s3cret-value', salt);
    expect(secretMatches('s3cret-value', salt, digest)).toBe(true);
    expect(secretMatches('s3cret-valuf', salt, digest)).toBe(false);
    expect(secretMatches('s3cret-value', newSalt(), digest)).toBe(false);
    expect(secretMatches('s3cret-value', salt, 'short')).toBe(false);
  });
});
