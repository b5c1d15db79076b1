import { writeSync } from 'node:fs';
import winston from 'winston';
import type TransportStream from 'winston-transport';

const MESSAGE = Symbol.for('message'); // triple-beam's: the formatted line
const LEVEL = Symbol.for('level');
// Rare and wanted at once (an operator tailing the log, a process about to fail).
const AT_ONCE = new Set(['error', 'warn']);
/** Lines wait at most this long, or until this much is pending, before they are written. */
export const FLUSH_MS = 10;
const FLUSH_BYTES = 64 * 1024;
// winston's base class for transports (its typings name it `transport`, its code `Transport`).
const Transport = (winston as unknown as { Transport: typeof TransportStream }).Transport;

// Lines held for the next write, across every transport, so that an exiting process
// writes them out before it goes.
const unflushed = new Set<LineTransport>();
process.once('exit', () => {
  for (const transport of unflushed) transport.flush();
});

/**
 * A winston transport that writes each formatted entry as one line, and writes the lines
 * of FLUSH_MS (or FLUSH_BYTES) together. Under load a proxy logs a line per request;
 * written one turn of the event loop at a time, through the stream's machinery, that was
 * a tenth of a proxied request's CPU (docs/proxy.md#benchmark): a write per 10 ms goes
 * straight to the file descriptor when the stream has one (process.stdout: a file, a
 * pipe or a terminal, all written synchronously by Node on Linux anyway). Lines keep
 * their order; they are written at the latest FLUSH_MS later, on close, or on process
 * exit, and a warning or an error is written at once (with the lines before it). A
 * process killed outright (SIGKILL) loses at most FLUSH_MS of lines.
 */
export class LineTransport extends Transport {
  readonly #stream: NodeJS.WritableStream;
  readonly #fd: number | undefined;
  // Lines are copied in as they come (UTF-8), so no line string outlives its request:
  // strings held for FLUSH_MS would be copied by every scavenge in between.
  readonly #buffer = Buffer.allocUnsafe(FLUSH_BYTES);
  #used = 0;
  #timer: NodeJS.Timeout | undefined;
  readonly #flushLater = () => {
    this.#timer = undefined;
    this.flush();
  };

  constructor(stream: NodeJS.WritableStream) {
    super();
    this.#stream = stream;
    const fd = (stream as { fd?: unknown }).fd;
    this.#fd = typeof fd === 'number' ? fd : undefined;
  }

  override log(info: Record<symbol, unknown>, next: () => void): void {
    this.writeLine(String(info[MESSAGE]), String(info[LEVEL]));
    next();
  }

  /** One line already formatted (the proxy's audit line, hot-line.ts), at `level`. */
  writeLine(line: string, level: string): void {
    // A UTF-16 unit is at most 3 bytes of UTF-8.
    if (this.#used + line.length * 3 + 1 > FLUSH_BYTES) this.flush();
    if (line.length * 3 + 1 > FLUSH_BYTES) this.#write(Buffer.from(`${line}\n`));
    else {
      this.#used += this.#buffer.write(line, this.#used, 'utf8');
      this.#buffer[this.#used++] = 0x0a;
    }
    if (AT_ONCE.has(level)) {
      this.flush();
    } else if (this.#timer === undefined) {
      unflushed.add(this);
      this.#timer = setTimeout(this.#flushLater, FLUSH_MS);
      this.#timer.unref();
    }
  }

  /** Writes what is pending now. */
  flush(): void {
    if (this.#timer !== undefined) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    unflushed.delete(this);
    if (this.#used === 0) return;
    const used = this.#used;
    this.#used = 0;
    this.#write(this.#buffer.subarray(0, used));
  }

  #write(bytes: Buffer): void {
    let done = 0;
    if (this.#fd !== undefined) {
      try {
        while (done < bytes.length) done += writeSync(this.#fd, bytes, done);
        return;
      } catch {
        // A non-blocking descriptor that is full (EAGAIN): the stream queues the rest.
      }
    }
    this.#stream.write(Buffer.from(bytes.subarray(done))); // a copy: the buffer is reused
  }

  override close(): void {
    this.flush();
  }
}
