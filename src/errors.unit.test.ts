import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { messageProblems } from '../test/support/messages.ts';
import { ERRORS, KeygateError } from './errors.ts';

const doc = readFileSync(resolve(import.meta.dirname, '../docs/errors.md'), 'utf8');
const documented = new Map(
  [...doc.matchAll(/^\| `([a-z_]+)` \| (\d{3}) \|/gm)].map((m) => [m[1] as string, Number(m[2])]),
);

describe('error catalogue', () => {
  it('docs/errors.md lists every code with its status, and nothing else', () => {
    const catalogue = new Map(Object.entries(ERRORS).map(([code, def]) => [code, def.status]));
    expect(Object.fromEntries(documented)).toEqual(Object.fromEntries(catalogue));
  });

  it('gives each error its code, status and catalogue message', () => {
    const err = new KeygateError('vault_unavailable', { retryAfter: 5 });
    expect(err).toMatchObject({ code: 'vault_unavailable', statusCode: 503, retryAfter: 5 });
    expect(err.message).toBe(ERRORS.vault_unavailable.message);
  });
});

describe('catalogue messages', () => {
  it.each(Object.entries(ERRORS))('%s reads as one sentence', (_code, { message }) => {
    expect(messageProblems(message, { sentence: true })).toEqual([]);
  });
});
