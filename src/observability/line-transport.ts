import winston from 'winston';
import type TransportStream from 'winston-transport';

const MESSAGE = Symbol.for('message'); // triple-beam's: the formatted line
const LEVEL = Symbol.for('level');
// Rare and wanted at once (an operator tailing the log, a process about to fail).
const AT_ONCE = new Set(['error', 'warn']);
// winston's base class for transports (its typings name it `transport`, its code `Transport`).
const Transport = (winston as unknown as { Transport: typeof TransportStream }).Transport;

// Lines held until the end of the current turn of the event loop, across every
// transport, so that an exiting process writes them out before it goes.
const unflushed = new Set<LineTransport>();
process.once('exit', () => {
  for (const transport of unflushed) transport.flush();
});

/**
 * A winston transport that writes each formatted entry as one line, and writes the
 * lines of one turn of the event loop together. When stdout is a file or a pipe,
 * Node writes it synchronously, one system call per write; under load a proxy logs
 * many lines per turn, so this saves a system call per request. Lines keep their
 * order; they are written at the latest on `setImmediate`, or on process exit, and a
 * warning or an error is written at once (with the lines before it).
 */
export class LineTransport extends Transport {
  readonly #stream: NodeJS.WritableStream;
  #pending = '';

  constructor(stream: NodeJS.WritableStream) {
    super();
    this.#stream = stream;
  }

  override log(info: Record<symbol, unknown>, next: () => void): void {
    this.writeLine(String(info[MESSAGE]), String(info[LEVEL]));
    next();
  }

  /** One line already formatted (the proxy's audit line, hot-line.ts), at `level`. */
  writeLine(line: string, level: string): void {
    const first = this.#pending === '';
    this.#pending += `${line}\n`;
    if (AT_ONCE.has(level)) {
      this.flush();
    } else if (first) {
      unflushed.add(this);
      setImmediate(() => this.flush());
    }
  }

  /** Writes what is pending now. */
  flush(): void {
    const text = this.#pending;
    if (text === '') return;
    this.#pending = '';
    unflushed.delete(this);
    this.#stream.write(text);
  }

  override close(): void {
    this.flush();
  }
}
