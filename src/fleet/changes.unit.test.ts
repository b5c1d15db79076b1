import { describe, expect, it } from 'vitest';
import { appendChanges, changesSince, type Change } from './changes.ts';

const key = (id: string): Change => ({ kind: 'key', id });

describe('the changes record', () => {
  it('a replica gets the others’ changes since the version it saw, not its own', () => {
    let record = appendChanges(undefined, [key('a')], 'p1', 1, 100);
    record = appendChanges(record, [key('b'), key('c')], 'p2', 2, 100);
    record = appendChanges(record, [key('d')], 'p1', 3, 100);
    const since1 = changesSince(record, 3, 1, 'p1');
    expect(since1).toEqual({
      everything: false,
      changes: [expect.objectContaining({ id: 'b' }), expect.objectContaining({ id: 'c' })],
    });
    expect(changesSince(record, 3, 3, 'p1')).toEqual({ everything: false, changes: [] });
    expect(changesSince(record, 3, 0, 'p3')).toMatchObject({
      everything: false,
      changes: [{ id: 'a' }, { id: 'b' }, { id: 'c' }, { id: 'd' }],
    });
  });

  it('keeps the last entries, whole versions only, and tells a replica that fell behind', () => {
    let record = appendChanges(undefined, [key('a'), key('b')], 'p1', 1, 3);
    record = appendChanges(record, [key('c'), key('d')], 'p1', 2, 3);
    // Keeping three would split version 1: it goes whole.
    expect(record.entries.map((e) => (e.kind === 'key' ? e.id : ''))).toEqual(['c', 'd']);
    expect(record.completeAfter).toBe(1);
    expect(changesSince(record, 2, 0, 'p2')).toEqual({ everything: true });
    expect(changesSince(record, 2, 1, 'p2')).toMatchObject({
      everything: false,
      changes: [{ id: 'c' }, { id: 'd' }],
    });
  });

  it('a record that is gone (deleted by an operator) means everything', () => {
    expect(changesSince(undefined, 5, 2, 'p1')).toEqual({ everything: true });
  });
});
