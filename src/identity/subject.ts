import { createHash } from 'node:crypto';

/** How a user's `sub` is kept wherever Keygate records it (callers, connect links): sha256, base64url. */
export function subjectHash(sub: string): string {
  return createHash('sha256').update(sub).digest('base64url');
}
