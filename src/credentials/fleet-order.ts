/** The order the fleet's credentials are listed in, and the cursors that page through it. */

export interface Ref {
  tenant: string;
  integration: string;
  account: string;
}

/** Tenant, then integration, then account with `default` first. */
export function compare(a: Ref, b: Ref): number {
  return (
    cmp(a.tenant, b.tenant) ||
    cmp(a.integration, b.integration) ||
    (a.account === 'default' ? -1 : 0) - (b.account === 'default' ? -1 : 0) ||
    cmp(a.account, b.account)
  );
}
const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/** The index of the first entry after `ref` in sort order. */
export function upperBound(sorted: readonly Ref[], ref: Ref): number {
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (compare(sorted[mid] as Ref, ref) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The position after a row: base64url of `[tenant, integration, account]`. */
export function encodeCursor(ref: Ref): string {
  return Buffer.from(JSON.stringify([ref.tenant, ref.integration, ref.account])).toString('base64url');
}

/** Undefined for a cursor this Keygate did not make. */
export function decodeCursor(cursor: string): Ref | undefined {
  try {
    const parsed: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString());
    if (Array.isArray(parsed) && parsed.length === 3 && parsed.every((p) => typeof p === 'string')) {
      const [tenant, integration, account] = parsed as [string, string, string];
      return { tenant, integration, account };
    }
  } catch {
    // fall through
  }
  return undefined;
}
