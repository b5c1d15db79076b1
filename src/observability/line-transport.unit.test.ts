import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from './logger.ts';

function capture() {
  const stream = new PassThrough();
  const writes: string[] = [];
  stream.on('data', (chunk: Buffer) => writes.push(chunk.toString()));
  return { logger: createLogger({ stream, level: 'debug' }), writes };
}

describe('line transport', () => {
  it('writes the lines of one turn together, in order, on the next turn', async () => {
    const { logger, writes } = capture();
    logger.info('one');
    logger.debug('two');
    expect(writes).toEqual([]);
    await new Promise((r) => setImmediate(r));
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
