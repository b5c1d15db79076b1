import type { Config } from '../config/schema.ts';
import type { StaleCacheOptions } from './stale-cache.ts';

/** The `cache.*` settings every Vault-backed cache shares: not-found memory and outage back-off. */
export function absentAndOutage(
  cache: Readonly<Config['cache']>,
): Pick<StaleCacheOptions, 'absentTtlMs' | 'absentMaxEntries' | 'outageBackoffMs'> {
  return {
    absentTtlMs: cache.notFoundSeconds * 1000,
    absentMaxEntries: cache.notFoundMaxEntries,
    outageBackoffMs: cache.outageBackoffSeconds * 1000,
  };
}
