import winston from 'winston';
import { LineTransport } from './line-transport.ts';
import { redactEntry } from './redact.ts';

export type Logger = winston.Logger;

export interface LoggerOptions {
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
  silent?: boolean;
}

const MESSAGE = Symbol.for('message'); // triple-beam's: the formatted line

// winston's timestamp format makes a Date and its ISO string for every entry; lines
// written in the same millisecond (many, under load: one audit line per request) share one.
let stampedAt = 0;
let stamp = '';

/** The ISO timestamp log lines carry, made once per millisecond. */
export function logTimestamp(): string {
  const now = Date.now();
  if (now !== stampedAt) {
    stampedAt = now;
    stamp = new Date(now).toISOString();
  }
  return stamp;
}

const timestampFormat = winston.format((info) => {
  info['timestamp'] = logTimestamp();
  return info;
});

// Runs after every format that adds fields, so nothing they add escapes it.
const redactFormat = winston.format((info) => {
  redactEntry(info);
  return info;
});

// After redaction an entry is plain data (no cycle, no bigint, no class instance), so
// JSON.stringify serves; winston's own JSON format (cycle-safe, much slower) stays as
// the fallback should anything else get through.
const fallbackJson = winston.format.json();
const jsonFormat = winston.format((info) => {
  try {
    (info as Record<symbol, unknown>)[MESSAGE] = JSON.stringify(info);
    return info;
  } catch {
    return fallbackJson.transform(info, fallbackJson.options);
  }
});

/** Writes every line the logger holds back now (see LineTransport). */
export function flushLogs(logger: Logger): void {
  for (const transport of logger.transports) if (transport instanceof LineTransport) transport.flush();
}

/** JSON lines, one per entry, with secret-bearing fields dropped wherever they are nested. */
export function createLogger(options: LoggerOptions = {}): Logger {
  return winston.createLogger({
    level: options.level ?? 'info',
    silent: options.silent ?? false,
    format: winston.format.combine(timestampFormat(), redactFormat(), jsonFormat()),
    transports: [new LineTransport(options.stream ?? process.stdout)],
  });
}
