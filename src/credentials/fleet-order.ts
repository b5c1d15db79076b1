/** The cursors that page through the fleet's credentials, in their order (compareRefs, ref.ts). */
import { compareRefs, credentialRef, type CredentialRef } from './ref.ts';

/** The index of the first entry after `ref` in sort order. */
export function upperBound(sorted: readonly CredentialRef[], ref: CredentialRef): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compareRefs(sorted[mid] as CredentialRef, ref) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The position after a row: base64url of `[tenant, integration, account]`. */
export function encodeCursor(ref: CredentialRef): string {
  return Buffer.from(JSON.stringify([ref.tenant, ref.integration, ref.account])).toString('base64url');
}

/** Undefined for a cursor this Keygate did not make. */
export function decodeCursor(cursor: string): CredentialRef | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(parsed) && parsed.length === 3 && parsed.every((p) => typeof p === 'string')) {
      const [tenant, integration, account] = parsed as [string, string, string];
      return credentialRef(tenant, integration, account);
    }
  } catch {
    // fall through
  }
  return undefined;
}
