import type { ProxyReply, ProxyRequest } from '../http/exchange.ts';
import type { InfoWriter } from '../observability/hot-line.ts';
import type { ProxyState } from './state.ts';

const MAX_PATH = 512;
/** Status recorded when the caller hung up before the answer was complete (nginx's convention). */
export const CALLER_CLOSED = 499;

/**
 * The audit line of a proxied request, written once its connection is done with it,
 * whether the answer completed, failed or the caller hung up. Never a secret: no
 * header, no query string, no body. Returns the status it recorded.
 */
export function writeAuditLine(
  write: InfoWriter,
  request: ProxyRequest,
  reply: ProxyReply,
  state: ProxyState,
): number {
  const status = reply.raw.writableFinished ? reply.statusCode : CALLER_CLOSED;
  // The logger's formats (redaction included) would run before its transports drop the line.
  if (!write.enabled()) return status;
  write({
    message: 'proxy request',
    event: 'proxy_request',
    requestId: request.id,
    // Raw from the URL, so possibly not a name at all (then the answer was a 400).
    tenant: state.tenant.slice(0, 64),
    integration: state.integration.slice(0, 64),
    account: state.account,
    method: state.method,
    path: state.path.length > MAX_PATH ? `${state.path.slice(0, MAX_PATH)}…` : state.path,
    status,
    keygateError: reply.getHeader('x-keygate-error'),
    attempts: state.attempts,
    upstreamMs: Math.round(state.upstreamMs),
    totalMs: Math.round(performance.now() - state.startedAt),
  });
  return status;
}
