import { describe, expect, it } from 'vitest';
import { KeygateError } from '../errors.ts';
import { classifyUpstreamError, upstreamFailureLog } from './upstream-errors.ts';

// An error that carries the one it stems from as its cause: the code that matters is the innermost.
const wrapped = (code: string) =>
  Object.assign(new Error('wrapped'), {
    code: 'UND_ERR_REQ_RETRY',
    cause: Object.assign(new Error('x'), { code }),
  });

describe('classifyUpstreamError', () => {
  it('maps connection failures to a retryable 502', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'UND_ERR_SOCKET', 'ENOTFOUND']) {
      const { error, retryable } = classifyUpstreamError(wrapped(code), false);
      expect([error.code, retryable], code).toEqual(['upstream_unreachable', true]);
    }
  });

  it('never retries a TLS verification failure', () => {
    const { error, retryable } = classifyUpstreamError(wrapped('DEPTH_ZERO_SELF_SIGNED_CERT'), false);
    expect([error.code, retryable]).toEqual(['upstream_unreachable', false]);
    expect(error.message).toMatch(/TLS/);
  });

  it('maps timeouts to 504; only a connect timeout is retryable', () => {
    expect(classifyUpstreamError(wrapped('UND_ERR_HEADERS_TIMEOUT'), false)).toMatchObject({
      retryable: false,
      error: { code: 'upstream_timeout' },
    });
    expect(classifyUpstreamError(wrapped('UND_ERR_CONNECT_TIMEOUT'), false)).toMatchObject({
      retryable: true,
      error: { code: 'upstream_timeout' },
    });
  });

  it('keeps Keygate errors (a streamed body over the limit) and notices a caller who left', () => {
    const tooLarge = Object.assign(new Error('x'), { cause: new KeygateError('payload_too_large') });
    expect(classifyUpstreamError(tooLarge, false).error.code).toBe('payload_too_large');
    expect(classifyUpstreamError(wrapped('UND_ERR_ABORTED'), false).callerGone).toBe(true);
  });

  it('holds nothing from the upstream in its message', () => {
    const err = Object.assign(new Error('connect ECONNREFUSED 10.0.0.1:443 Bearer abc'), {
      code: 'ECONNREFUSED',
    });
    expect(classifyUpstreamError(err, false).error.message).toBe('The upstream could not be reached.');
  });

  it('names the cause and the host for the log, without the upstream text', () => {
    const causes = {
      ENOTFOUND: 'dns',
      ECONNREFUSED: 'refused',
      ECONNRESET: 'reset',
      CERT_HAS_EXPIRED: 'tls',
    };
    for (const [code, cause] of Object.entries(causes)) {
      const failure = classifyUpstreamError(wrapped(code), false);
      expect(upstreamFailureLog(failure, 'https://api.example.com:8443')).toEqual({
        event: 'upstream_failed',
        errorCode: 'upstream_unreachable',
        host: 'api.example.com:8443',
        cause,
        upstreamErrorCode: code,
      });
    }
  });
});
