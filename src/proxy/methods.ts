import { KeygateError } from '../errors.ts';

// RFC 9110 §9.3.8: an upstream that honours TRACE echoes the request, injected
// credential included. TRACK is Microsoft's TRACE.
const REFUSED = new Set(['TRACE', 'TRACK']);

/** Throws `method_not_allowed` for a method the proxy must never forward. */
export function assertProxyMethod(method: string): void {
  if (REFUSED.has(method)) throw new KeygateError('method_not_allowed');
}
