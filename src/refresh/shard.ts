import { createHash } from 'node:crypto';

/**
 * Rendezvous (highest random weight) hashing: each member scores a credential by a hash of
 * (member, credential); the highest score owns it. When a member comes or goes only the
 * credentials it owned (or now owns) move, and every replica agrees on the order from the
 * member list alone, with nothing to coordinate.
 */
export function rendezvousRank(key: string, self: string, members: readonly string[]): number {
  const mine = score(self, key);
  let rank = 0;
  for (const member of members) {
    if (member === self) continue;
    const theirs = score(member, key);
    if (theirs > mine || (theirs === mine && member < self)) rank += 1;
  }
  return rank;
}

/** The members in the order they attempt the credential: the owner first. */
export function rendezvousOrder(key: string, members: readonly string[]): string[] {
  return [...members].sort((a, b) => score(b, key) - score(a, key) || (a < b ? -1 : a > b ? 1 : 0));
}

// 48 bits of SHA-256: uniform, the same in every process, and exact in a JS number.
function score(member: string, key: string): number {
  return createHash('sha256').update(member).update('\n').update(key).digest().readUIntBE(0, 6);
}
