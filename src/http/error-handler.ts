import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { KeygateError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { ajvDetails, invalidFields } from './invalid-fields.ts';
import type { ProxyReply, ProxyRequest } from './exchange.ts';

/** What the Allow header of a 405 lists. */
export const ALLOWED_METHODS = 'GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS';

// How Node reports a caller that hung up while its body was being read.
const CALLER_GONE = new Set(['ECONNRESET', 'ECONNABORTED', 'ERR_STREAM_PREMATURE_CLOSE']);

/**
 * Writes a Keygate error in the contract's shape, marked with `x-keygate-error`. An
 * error sent before the request's body was read closes the connection: otherwise
 * Node would go on reading (and discarding) whatever the caller still sends.
 */
export function sendError<R extends ProxyReply>(reply: R, err: KeygateError): R {
  reply.code(err.statusCode);
  reply.header('x-keygate-error', err.code);
  reply.header('content-type', 'application/json');
  if (!reply.request.raw.complete) reply.header('connection', 'close');
  if (err.code === 'method_not_allowed') reply.header('allow', ALLOWED_METHODS);
  if (err.retryAfter !== undefined)
    reply.header('retry-after', String(Math.max(0, Math.ceil(err.retryAfter))));
  if (err.headers) for (const [name, value] of Object.entries(err.headers)) reply.header(name, value);
  const body: Record<string, unknown> = { code: err.code, message: err.message, requestId: reply.request.id };
  if (err.details && err.details.length > 0) body['details'] = err.details;
  reply.send({ error: body });
  return reply;
}

const INVALID_JSON =
  'The body is not valid JSON (the content type is right): check quotes, commas and braces.';

// Fastify's own errors, each with a message that says what to fix. The JSON parser's
// message is never passed on: it quotes the body, which may hold a secret.
const FASTIFY_CODES: Readonly<Record<string, { code: ErrorCode; message?: string }>> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { code: 'payload_too_large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: {
    code: 'bad_request',
    message: 'Wrong content type: send the body as JSON with content-type: application/json.',
  },
  FST_ERR_CTP_EMPTY_JSON_BODY: { code: 'bad_request' },
  FST_ERR_CTP_INVALID_JSON_BODY: { code: 'bad_request', message: INVALID_JSON },
};

/** Maps any error to the contract's JSON; nothing from an unknown error reaches the caller. */
export function toKeygateError(err: unknown): KeygateError {
  if (err instanceof KeygateError) return err;
  const fe = err as Partial<FastifyError>;
  if (Array.isArray(fe.validation)) {
    return invalidFields(ajvDetails(fe.validation, fe.validationContext ?? 'body'));
  }
  if ((fe.code && CALLER_GONE.has(fe.code)) || fe.message === 'aborted') {
    return new KeygateError('client_closed_request');
  }
  const mapped = fe.code ? FASTIFY_CODES[fe.code] : undefined;
  if (mapped)
    return new KeygateError(mapped.code, mapped.message === undefined ? {} : { message: mapped.message });
  // The default JSON parser throws JSON.parse's SyntaxError with statusCode 400.
  if (err instanceof SyntaxError && fe.statusCode === 400) {
    return new KeygateError('bad_request', { message: INVALID_JSON });
  }
  if (typeof fe.statusCode === 'number' && fe.statusCode >= 400 && fe.statusCode < 500) {
    return new KeygateError(fe.statusCode === 404 ? 'not_found' : 'bad_request');
  }
  return new KeygateError('internal_error', { cause: err });
}

/** One error log line for a fault of Keygate's own (5xx), with the request id the caller got. */
export function logFault(logger: Logger, request: Pick<ProxyRequest, 'id'>, kg: KeygateError): void {
  if (kg.statusCode >= 500) {
    logger.error('request failed', { requestId: request.id, errorCode: kg.code, err: kg.cause ?? kg });
  }
}

/** The error handler's answer: any error as the contract's JSON, a fault logged once. */
export function answerError<R extends ProxyReply>(logger: Logger, reply: R, err: unknown): R {
  const kg = toKeygateError(err);
  logFault(logger, reply.request, kg);
  return sendError(reply, kg);
}

export function installErrorHandling(app: FastifyInstance, logger: Logger): void {
  app.setErrorHandler((err: unknown, _request: FastifyRequest, reply: FastifyReply) =>
    answerError(logger, reply, err),
  );
  app.setNotFoundHandler((_request, reply) => sendError(reply, new KeygateError('not_found')));
}
