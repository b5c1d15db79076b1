import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { EVENT_FIELDS, EVENT_TYPES } from './catalogue.ts';

const doc = readFileSync(resolve(import.meta.dirname, '../../docs/events.md'), 'utf8');
const documentedEvents = Object.fromEntries(
  [...doc.matchAll(/^\| `([a-z-]+)` \| ([a-zA-Z, ]+) \|$/gm)].map((m) => [
    m[1] as string,
    (m[2] as string).split(',').map((f) => f.trim()),
  ]),
);
const documentedFields = new Set([...doc.matchAll(/^\| `([a-zA-Z]+)` \| [a-z[\] ]+ \|/gm)].map((m) => m[1]));

describe('event catalogue', () => {
  it('docs/events.md lists every event with its fields, in order, and nothing else', () => {
    expect(documentedEvents).toEqual(Object.fromEntries(EVENT_TYPES.map((t) => [t, [...EVENT_FIELDS[t]]])));
  });

  it('docs/events.md describes every field an event can carry', () => {
    const fields = new Set(Object.values(EVENT_FIELDS).flat());
    expect([...documentedFields].sort()).toEqual([...fields].sort());
  });
});
