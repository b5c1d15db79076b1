import type { IncomingHttpHeaders } from 'node:http';
import { KeygateError } from '../errors.ts';
import type { Transport } from './state.ts';

// RFC 9110 §9.3.8: an upstream that honours TRACE echoes the request, injected
// credential included. TRACK is Microsoft's TRACE.
const REFUSED = new Set(['TRACE', 'TRACK']);

/** TRACE or TRACK: never forwarded over HTTP. */
export function isRefusedMethod(method: string): boolean {
  return REFUSED.has(method);
}

/**
 * Throws for a method the transport must never forward: `method_not_allowed` for TRACE
 * and TRACK over HTTP; anything but a GET asking for `Upgrade: websocket` on the upgrade path.
 */
export function assertMethod(
  request: { method: string; headers: IncomingHttpHeaders },
  transport: Transport,
): void {
  if (transport === 'http') {
    if (isRefusedMethod(request.method)) throw new KeygateError('method_not_allowed');
    return;
  }
  const upgrade = request.headers.upgrade;
  if (request.method !== 'GET' || typeof upgrade !== 'string' || upgrade.toLowerCase() !== 'websocket') {
    throw new KeygateError('bad_request', { message: 'Only WebSocket upgrades (GET) are proxied.' });
  }
}
