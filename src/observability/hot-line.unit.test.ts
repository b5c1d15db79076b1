import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { infoWriter } from './hot-line.ts';
import { createLogger } from './logger.ts';

function capture(level = 'info') {
  const stream = new PassThrough();
  const lines: string[] = [];
  stream.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
  return { logger: createLogger({ stream, level }), lines };
}
const settle = () => new Promise((r) => setImmediate(r));
const withoutTime = (line: string | undefined) => {
  const { timestamp, ...rest } = JSON.parse(line ?? '{}') as Record<string, unknown>;
  expect(typeof timestamp).toBe('string');
  return rest;
};

describe('infoWriter', () => {
  it('writes the line logger.info writes, redaction and timestamp included', async () => {
    const entry = () => ({ message: 'proxy request', path: '/x/kg_abc.def', apiKey: 'gone', status: 200 });
    const viaWinston = capture();
    viaWinston.logger.info(entry());
    const direct = capture();
    infoWriter(direct.logger)(entry());
    await settle();
    expect(direct.lines).toHaveLength(1);
    expect(withoutTime(direct.lines[0])).toEqual(withoutTime(viaWinston.lines[0]));
    expect(direct.lines[0]).not.toContain('kg_abc');
    expect(direct.lines[0]).not.toContain('gone');
  });

  it('writes nothing below the logger level, or when silent', async () => {
    const quiet = capture('warn');
    const write = infoWriter(quiet.logger);
    expect(write.enabled()).toBe(false);
    write({ message: 'dropped' });
    const silent = capture();
    silent.logger.silent = true;
    infoWriter(silent.logger)({ message: 'dropped' });
    await settle();
    expect([...quiet.lines, ...silent.lines]).toEqual([]);
  });
});
