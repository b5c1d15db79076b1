import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { ERRORS, KeygateError, type ErrorCode } from '../errors.ts';
import type { Logger } from '../observability/logger.ts';
import { ALLOWED_METHODS, sendError } from './error-handler.ts';

const MAX_PATH = 512;

/** The path of a raw request target, without its query string (which may hold a secret). */
export function loggablePath(url: string | undefined): string {
  const path = (url ?? '').split('?', 1)[0] ?? '';
  return path.length > MAX_PATH ? `${path.slice(0, MAX_PATH)}…` : path;
}

// Errors Fastify's router raises before any route or hook runs.
function fromFramework(err: FastifyError): KeygateError {
  switch (err.code) {
    case 'FST_ERR_BAD_URL':
      return new KeygateError('invalid_path', { message: 'The path has a malformed percent-encoding.' });
    case 'FST_ERR_MAX_PARAM_LENGTH':
      // Every path parameter Keygate routes on is a name of at most 63 characters.
      return new KeygateError('invalid_name');
    default:
      return new KeygateError('bad_request');
  }
}

/**
 * Fastify's `frameworkErrors`: a URL the router cannot take (bad escape, overlong
 * parameter) gets the contract's error, its request id and a log line, like any other.
 */
export function frameworkErrors(logger: Logger) {
  return (err: FastifyError, request: FastifyRequest, reply: FastifyReply): void => {
    const kg = fromFramework(err);
    reply.header('x-request-id', request.id);
    logger.info('request rejected', {
      event: 'request_rejected',
      requestId: request.id,
      method: request.raw.method,
      path: loggablePath(request.raw.url),
      status: kg.statusCode,
      keygateError: kg.code,
    });
    void sendError(reply, kg);
  };
}

// What Node's parser refuses, as the contract's codes.
function fromParser(code: string | undefined): ErrorCode {
  switch (code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return 'request_timeout';
    case 'HPE_HEADER_OVERFLOW':
      return 'headers_too_large';
    case 'HPE_INVALID_METHOD':
      return 'method_not_allowed';
    default:
      return 'bad_request';
  }
}

const REASONS: Partial<Record<number, string>> = {
  400: 'Bad Request',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  431: 'Request Header Fields Too Large',
};

/**
 * The server's `clientError` handler (Fastify's `clientErrorHandler`): a request Node
 * could not parse, or that did not arrive in time, gets the contract's JSON with
 * `x-keygate-error` and a request id, one log line (the parser's code, never the
 * bytes), and the connection closed, since the rest of the stream cannot be trusted.
 */
export function clientErrorHandler(logger: Logger) {
  return (err: NodeJS.ErrnoException, socket: Socket): void => {
    // A reset: nobody to answer.
    if (err.code === 'ECONNRESET' || socket.destroyed) return;
    const code = fromParser(err.code);
    const status = ERRORS[code].status;
    const requestId = randomUUID();
    logger.info('client error', {
      event: 'client_error',
      requestId,
      parserError: err.code ?? 'unknown',
      status,
      keygateError: code,
    });
    // A response already under way (a timeout mid-answer) cannot be replaced.
    const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
    if (socket.writable && !inFlight?.headersSent) {
      const body = JSON.stringify({ error: { code, message: ERRORS[code].message, requestId } });
      socket.write(
        `HTTP/1.1 ${status} ${REASONS[status] ?? 'Error'}\r\n` +
          'content-type: application/json\r\n' +
          `content-length: ${Buffer.byteLength(body)}\r\n` +
          `x-keygate-error: ${code}\r\n` +
          `x-request-id: ${requestId}\r\n` +
          (code === 'method_not_allowed' ? `allow: ${ALLOWED_METHODS}\r\n` : '') +
          'connection: close\r\n\r\n' +
          body,
      );
    }
    socket.destroySoon();
  };
}
