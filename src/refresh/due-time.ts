import type { CredentialListing } from '../credentials/types.ts';

const MIN_GAP_MS = 1000;

/**
 * When a credential's refresh is due (ms since the epoch): `bufferMs` before it expires,
 * at once when that has passed; undefined when it is not to be refreshed (no expiry,
 * needs_reauth). A token that was `justRefreshed` yet lives shorter than the buffer would
 * be due again at once, in a loop: it is renewed halfway through its life instead.
 */
export function dueTime(
  credential: Pick<CredentialListing, 'status' | 'expiresAt'>,
  bufferMs: number,
  now: number,
  justRefreshed: boolean,
): number | undefined {
  if (credential.status === 'needs_reauth' || !credential.expiresAt) return undefined;
  const expiresAt = Date.parse(credential.expiresAt);
  if (Number.isNaN(expiresAt) || expiresAt <= now) return now;
  const due = expiresAt - bufferMs;
  if (due > now || !justRefreshed) return Math.max(now, due);
  return now + Math.max(MIN_GAP_MS, (expiresAt - now) / 2);
}
