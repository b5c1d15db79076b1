/**
 * Exponential backoff with full jitter (AWS's "full jitter"): a uniformly random wait up
 * to min(max, min * 2^(failures - 1)), so receivers coming back are not hit by every
 * replica at the same instant. `random` is injectable for tests.
 */
export function backoffMs(
  failures: number,
  { minMs, maxMs }: { minMs: number; maxMs: number },
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(maxMs, minMs * 2 ** Math.max(0, Math.min(failures - 1, 30)));
  return Math.max(minMs / 2, ceiling * random());
}
