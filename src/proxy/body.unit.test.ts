import { PassThrough, Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isKeygateError } from '../errors.ts';
import { replay, takeBody } from './body.ts';

const limits = { maxBodyBytes: 100, maxReplayBodyBytes: 10 };
const source = (...chunks: string[]) =>
  Readable.from(
    chunks.map((c) => Buffer.from(c)),
    { objectMode: false },
  );
const text = async (stream: Readable) => {
  let out = '';
  for await (const chunk of stream) out += String(chunk);
  return out;
};

describe('takeBody', () => {
  it('has nothing to take without a stream or from an empty one', async () => {
    expect(await takeBody(undefined, undefined, limits)).toEqual({ kind: 'none' });
    expect(await takeBody(source(), '0', limits)).toEqual({ kind: 'none' });
  });

  it('buffers a body up to maxReplayBodyBytes, and replays it as often as asked', async () => {
    const body = await takeBody(source('hello', ' you'), undefined, limits);
    expect(body.kind).toBe('buffered');
    if (body.kind !== 'buffered') return;
    expect(await text(replay(body.data))).toBe('hello you');
    expect(await text(replay(body.data))).toBe('hello you');
  });

  it('streams a larger body once, with the part already read first', async () => {
    const body = await takeBody(source('0123456789', 'abcdef', 'ghij'), undefined, limits);
    expect(body.kind).toBe('streaming');
    if (body.kind !== 'streaming') return;
    expect(await text(body.open())).toBe('0123456789abcdefghij');
    expect(() => body.open()).toThrow(/once/);
  });

  it('refuses a declared length over maxBodyBytes before reading', async () => {
    const stream = new PassThrough();
    await expect(takeBody(stream, '101', limits)).rejects.toMatchObject({ code: 'payload_too_large' });
    expect(stream.readableFlowing).toBe(null);
  });

  it('fails a chunked body once it passes maxBodyBytes', async () => {
    const body = await takeBody(source('x'.repeat(50), 'y'.repeat(50), 'z'), undefined, limits);
    if (body.kind !== 'streaming') throw new Error('expected a streaming body');
    const error = await text(body.open()).catch((err: unknown) => err);
    expect(isKeygateError(error, 'payload_too_large')).toBe(true);
  });
});
