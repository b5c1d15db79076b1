import { PassThrough, Readable } from 'node:stream';
import { KeygateError } from '../errors.ts';

/** A request body as the proxy holds it: absent, buffered (can be replayed) or streaming (cannot). */
export type ProxyBody =
  { kind: 'none' } | { kind: 'buffered'; data: Buffer } | { kind: 'streaming'; open: () => Readable };

export interface BodyLimits {
  /** Larger bodies are refused with 413. */
  maxBodyBytes: number;
  /** Bodies up to this size are buffered so a retry or a 401 replay can send them again. */
  maxReplayBodyBytes: number;
}

const tooLarge = () => new KeygateError('payload_too_large');

interface Prefix {
  chunks: Buffer[];
  bytes: number;
  ended: boolean;
}

// Reads until the stream ends or more than `limit` bytes arrived, then pauses it.
function readPrefix(stream: Readable, limit: number): Promise<Prefix> {
  return new Promise((resolve, reject) => {
    const prefix: Prefix = { chunks: [], bytes: 0, ended: false };
    const cleanup = () => {
      stream.off('data', onData).off('end', onEnd).off('error', onError).off('close', onClose);
    };
    const onData = (chunk: Buffer) => {
      prefix.chunks.push(chunk);
      prefix.bytes += chunk.length;
      if (prefix.bytes > limit) {
        stream.pause();
        cleanup();
        resolve(prefix);
      }
    };
    const onEnd = () => {
      cleanup();
      resolve({ ...prefix, ended: true });
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const onClose = () => {
      cleanup();
      reject(new KeygateError('client_closed_request')); // the caller went away: not Keygate's fault
    };
    stream.on('data', onData).on('end', onEnd).on('error', onError).on('close', onClose);
    stream.resume();
  });
}

// The prefix already read, then the rest of the stream, failing past `maxBytes`.
function rejoin(prefix: Prefix, rest: Readable, maxBytes: number): Readable {
  return Readable.from(
    (async function* () {
      let total = 0;
      for (const chunk of prefix.chunks) {
        total += chunk.length;
        yield chunk;
      }
      for await (const chunk of rest as AsyncIterable<Buffer>) {
        total += chunk.length;
        if (total > maxBytes) throw tooLarge();
        yield chunk;
      }
    })(),
    { objectMode: false },
  );
}

/**
 * Takes the caller's body: over `maxBodyBytes` by Content-Length is a 413 before a
 * byte is read; up to `maxReplayBodyBytes` it is buffered; beyond that it streams to
 * the upstream once (a chunked body over the limit fails the upstream request).
 */
export async function takeBody(
  raw: unknown,
  contentLength: string | undefined,
  limits: BodyLimits,
): Promise<ProxyBody> {
  if (!(raw instanceof Readable)) return { kind: 'none' };
  const declared = contentLength === undefined ? undefined : Number(contentLength);
  if (declared !== undefined && declared > limits.maxBodyBytes) throw tooLarge();
  const prefixLimit = Math.min(limits.maxReplayBodyBytes, limits.maxBodyBytes);
  const prefix = await readPrefix(raw, prefixLimit);
  if (prefix.ended) {
    return prefix.bytes === 0
      ? { kind: 'none' }
      : { kind: 'buffered', data: Buffer.concat(prefix.chunks, prefix.bytes) };
  }
  if (prefix.bytes > limits.maxBodyBytes) throw tooLarge();
  let opened = false;
  return {
    kind: 'streaming',
    open: () => {
      if (opened) throw new Error('a streamed body can be sent once');
      opened = true;
      return rejoin(prefix, raw, limits.maxBodyBytes);
    },
  };
}

/** A fresh stream of a buffered body, one per attempt. */
export function replay(data: Buffer): Readable {
  return new PassThrough().end(data);
}
