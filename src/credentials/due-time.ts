import type { CredentialListing } from './types.ts';

const MIN_GAP_MS = 1000;

/**
 * When a credential's refresh is due (ms since the epoch), from what is stored about it and
 * nothing else, so every path that schedules it (a write, a refresh, the start-up listing, a
 * resync, another replica's change) gets the same answer: `bufferMs` before it expires, at
 * once when that has passed; undefined when it is not to be refreshed (no expiry,
 * needs_reauth). A token whose whole life (from `lastRefreshedAt`, when it was obtained, to
 * expiry) is shorter than the buffer would be due the moment it arrives, in a loop: it is
 * renewed halfway through its life instead.
 */
export function dueTime(
  credential: Pick<CredentialListing, 'status' | 'expiresAt' | 'lastRefreshedAt'>,
  bufferMs: number,
  now: number,
): number | undefined {
  if (credential.status === 'needs_reauth' || !credential.expiresAt) return undefined;
  const expiresAt = Date.parse(credential.expiresAt);
  if (Number.isNaN(expiresAt) || expiresAt <= now) return now;
  const obtainedAt = credential.lastRefreshedAt ? Date.parse(credential.lastRefreshedAt) : Number.NaN;
  const life = expiresAt - obtainedAt;
  const due =
    life > 0 && life <= bufferMs ? obtainedAt + Math.max(MIN_GAP_MS, life / 2) : expiresAt - bufferMs;
  return Math.max(now, due);
}
