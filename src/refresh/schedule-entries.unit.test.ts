import { describe, expect, it } from 'vitest';
import { credentialRef } from '../credentials/ref.ts';
import { ScheduleEntries } from './schedule-entries.ts';

describe('ScheduleEntries', () => {
  it('keeps the status counts with every change', () => {
    const entries = new ScheduleEntries();
    const a = entries.ensure(credentialRef('a', 'crm'));
    const b = entries.ensure(credentialRef('b', 'crm', 'work'));
    expect(entries.ensure(credentialRef('a', 'crm', 'default'))).toBe(a); // one entry per credential
    expect(entries.counts).toEqual({ active: 2, refresh_failed: 0, needs_reauth: 0 });
    entries.setStatus(a, 'needs_reauth');
    entries.setStatus(b, 'refresh_failed');
    entries.setStatus(b, 'refresh_failed');
    expect(entries.counts).toEqual({ active: 0, refresh_failed: 1, needs_reauth: 1 });
    expect(entries.forget(a)).toBe(true);
    expect(entries.forget(a)).toBe(false); // forgotten already: counted once
    expect(entries.counts).toEqual({ active: 0, refresh_failed: 1, needs_reauth: 0 });
    expect([...entries.values()]).toEqual([b]);
  });

  it('tells a forgotten or replaced entry from the one it holds', () => {
    const entries = new ScheduleEntries();
    const ref = credentialRef('a', 'crm', 'work');
    const old = entries.ensure(ref);
    expect(entries.holds(old)).toBe(true);
    entries.forget(old);
    const replaced = entries.ensure(ref);
    expect(replaced).not.toBe(old);
    expect(entries.holds(old)).toBe(false);
    expect(entries.forget(old)).toBe(false); // a refresh that ran on the old one leaves the new alone
    expect(entries.get(ref)).toBe(replaced);
    expect(entries.get(credentialRef('a', 'crm'))).toBeUndefined(); // another account, another credential
    expect(entries.counts.active).toBe(1);
  });
});
