import type { ProxyReply, ProxyRequest } from '../http/exchange.ts';
import type { InfoWriter } from '../observability/hot-line.ts';
import type { ProxyState } from './state.ts';

const MAX_PATH = 512;
/** Status recorded when the caller hung up before the answer was complete (nginx's convention). */
export const CALLER_CLOSED = 499;

/**
 * The audit line of a proxied request (HTTP or WebSocket, the same fields), written once
 * its connection is done with it, whether the answer completed, failed or the caller
 * hung up (`status` 499). Never a secret: no header, no query string, no body; the
 * caller is its key id or token-derived id.
 */
export function writeAuditLine(
  write: InfoWriter,
  request: ProxyRequest,
  reply: ProxyReply,
  state: ProxyState,
  status: number,
): void {
  // The logger's formats (redaction included) would run before its transports drop the line.
  if (!write.enabled()) return;
  write({
    message: 'proxy request',
    event: 'proxy_request',
    requestId: request.id,
    // Raw from the URL, so possibly not a name at all (then the answer was a 400).
    tenant: state.tenant.slice(0, 64),
    integration: state.integration.slice(0, 64),
    account: state.account,
    caller: state.caller?.id,
    transport: state.transport,
    method: state.method,
    path: state.path.length > MAX_PATH ? `${state.path.slice(0, MAX_PATH)}…` : state.path,
    status,
    keygateError: reply.getHeader('x-keygate-error'),
    attempts: state.attempts,
    upstreamMs: Math.round(state.upstreamMs),
    totalMs: Math.round(performance.now() - state.startedAt),
  });
}
