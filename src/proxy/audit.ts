import type { ProxyReply, ProxyRequest } from '../http/exchange.ts';
import type { LineWriter } from '../observability/hot-line.ts';
import { logTimestamp } from '../observability/logger.ts';
import { scrubString } from '../observability/redact.ts';
import type { ProxyState } from './state.ts';

const MAX_PATH = 512;
/** Status recorded when the caller hung up before the answer was complete (nginx's convention). */
export const CALLER_CLOSED = 499;

const str = JSON.stringify;

/**
 * The audit line of a proxied request (HTTP or WebSocket, the same fields) as the JSON
 * line the logger would write for it: what logger.info writes for the same entry,
 * field for field (audit.unit.test.ts holds the two equal, redaction included). Made
 * here rather than by winston's format chain, which was most of the line's cost. Never a
 * secret: no header, no query string, no body; the caller is its key id or token-derived
 * id; every text that comes from the caller (the raw tenant, integration and path) is
 * scrubbed of secret-shaped values as every log line is. No field name is secret-shaped.
 */
export function auditLine(
  request: ProxyRequest,
  reply: ProxyReply,
  state: ProxyState,
  status: number,
): string {
  const path = state.path.length > MAX_PATH ? `${state.path.slice(0, MAX_PATH)}…` : state.path;
  const caller = state.caller?.id;
  const error = reply.getHeader('x-keygate-error');
  // Raw from the URL, so possibly not a name at all (then the answer was a 400).
  return (
    `{"message":"proxy request","event":"proxy_request","requestId":${str(request.id)}` +
    `,"tenant":${str(scrubString(state.tenant.slice(0, 64)))}` +
    `,"integration":${str(scrubString(state.integration.slice(0, 64)))}` +
    `,"account":${str(state.account)}` +
    (caller === undefined ? '' : `,"caller":${str(caller)}`) +
    `,"transport":"${state.transport}","method":${str(state.method)},"path":${str(scrubString(path))}` +
    `,"status":${status}` +
    (typeof error === 'string' ? `,"keygateError":${str(error)}` : '') +
    `,"attempts":${state.attempts},"upstreamMs":${Math.round(state.upstreamMs)}` +
    `,"totalMs":${Math.round(performance.now() - state.startedAt)}` +
    `,"level":"info","timestamp":"${logTimestamp()}"}`
  );
}

/** Writes the audit line once the request's connection is done with it, whether it completed, failed or was cut. */
export function writeAuditLine(
  write: LineWriter,
  request: ProxyRequest,
  reply: ProxyReply,
  state: ProxyState,
  status: number,
): void {
  if (write.enabled()) write(auditLine(request, reply, state, status));
}
