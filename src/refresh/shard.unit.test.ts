import { describe, expect, it } from 'vitest';
import { rendezvousOrder, rendezvousRank } from './shard.ts';

const keys = Array.from({ length: 3000 }, (_, i) => `tenant${i}/crm/default`);

describe('rendezvous hashing of due refreshes', () => {
  it('every replica computes the same order: exactly one owner per credential, ranks 0..n-1', () => {
    const members = ['a#1', 'b#2', 'c#3'];
    for (const key of keys.slice(0, 200)) {
      const ranks = members.map((m) => rendezvousRank(key, m, members)).sort();
      expect(ranks).toEqual([0, 1, 2]);
      const order = rendezvousOrder(key, members);
      for (const [i, m] of order.entries()) expect(rendezvousRank(key, m, members)).toBe(i);
    }
  });

  it('spreads credentials evenly (each of three owns 30–37 %)', () => {
    const members = ['a#1', 'b#2', 'c#3'];
    const owned = new Map(members.map((m) => [m, 0]));
    for (const key of keys) {
      const owner = rendezvousOrder(key, members)[0] as string;
      owned.set(owner, (owned.get(owner) ?? 0) + 1);
    }
    for (const count of owned.values()) {
      expect(count / keys.length).toBeGreaterThan(0.3);
      expect(count / keys.length).toBeLessThan(0.37);
    }
  });

  it('a replica that goes moves only its own credentials, each to its next in order', () => {
    const before = ['a#1', 'b#2', 'c#3'];
    const after = ['a#1', 'c#3'];
    for (const key of keys.slice(0, 500)) {
      const [owner, second] = rendezvousOrder(key, before);
      const now = rendezvousOrder(key, after)[0];
      expect(now).toBe(owner === 'b#2' ? second : owner);
    }
  });

  it('a replica alone owns everything', () => {
    expect(keys.slice(0, 50).every((k) => rendezvousRank(k, 'solo', ['solo']) === 0)).toBe(true);
  });
});
