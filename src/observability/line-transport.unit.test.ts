import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { FLUSH_MS } from './line-transport.ts';
import { createLogger } from './logger.ts';

function capture() {
  const stream = new PassThrough();
  const writes: string[] = [];
  stream.on('data', (chunk: Buffer) => writes.push(chunk.toString()));
  return { logger: createLogger({ stream, level: 'debug' }), writes };
}

describe('line transport', () => {
  it('writes the lines of FLUSH_MS together, in order, then', async () => {
    const { logger, writes } = capture();
    logger.info('one');
    logger.debug('two');
    await new Promise((r) => setImmediate(r));
    expect(writes).toEqual([]);
    const deadline = Date.now() + FLUSH_MS + 1000;
    while (writes.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 2));
    expect(writes).toHaveLength(1);
    const lines = (writes[0] ?? '').split('\n').filter(Boolean);
    expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['one', 'two']);
  });

  it('writes a warning or an error at once, after the lines before it', () => {
    const { logger, writes } = capture();
    logger.info('before');
    logger.warn('careful');
    const lines = writes.join('').split('\n').filter(Boolean);
    expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual(['before', 'careful']);
  });
});
