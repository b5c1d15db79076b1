import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, flushLogs } from './logger.ts';

const CANARY = 'canary-9f8e7d6c5b4a';

function capture() {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ stream, level: 'debug' }), lines };
}

describe('logger redaction', () => {
  it('drops secret-bearing fields wherever they are nested', async () => {
    const { logger, lines } = capture();
    const axiosLikeError = Object.assign(new Error('Request failed with status code 500'), {
      code: 'ERR_BAD_RESPONSE',
      config: { headers: { 'X-Vault-Token': `hvs.${CANARY}` } },
    });
    logger.info('calling upstream', {
      tenant: 'acme',
      apiKey: CANARY,
      refresh_token: CANARY,
      count: 12n,
      request: { headers: { authorization: `Bearer ${CANARY}`, accept: 'application/json' } },
      credentials: [{ accessToken: CANARY, refresh_token: CANARY, scopes: ['repo'] }],
      deep: { a: { b: { c: { client_secret: CANARY, apiKey: CANARY, password: CANARY } } } },
      err: axiosLikeError,
      note: `header was Bearer ${CANARY} and key kg_abc123.${CANARY}`,
    });
    logger.debug(`message with Bearer ${CANARY}`);
    flushLogs(logger);
    expect(lines).toHaveLength(2);
    const output = lines.join('\n');
    expect(output).not.toContain(CANARY);
    const entry = JSON.parse(lines[0] ?? '{}');
    expect(entry.tenant).toBe('acme');
    expect(entry.count).toBe('12');
    expect(entry.request.headers.accept).toBe('application/json');
    expect(entry.credentials[0].scopes).toEqual(['repo']);
    expect(entry.err).toMatchObject({ name: 'Error', code: 'ERR_BAD_RESPONSE' });
    expect(entry.note).toContain('[redacted]');
  });
});
