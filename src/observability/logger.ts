import winston from 'winston';
import { redact } from './redact.ts';

export type Logger = winston.Logger;

export interface LoggerOptions {
  level?: string;
  /** Where lines go; stdout by default. Tests pass a stream to read them back. */
  stream?: NodeJS.WritableStream;
  silent?: boolean;
}

// Runs last, on the whole entry, so nothing added by other formats escapes it.
const redactFormat = winston.format((info) => {
  const clean = redact({ ...info }) as Record<string, unknown>;
  for (const key of Object.keys(info)) if (!(key in clean)) delete (info as Record<string, unknown>)[key];
  Object.assign(info, clean);
  return info;
});

/** JSON lines, one per entry, with secret-bearing fields dropped wherever they are nested. */
export function createLogger(options: LoggerOptions = {}): Logger {
  const transport = options.stream
    ? new winston.transports.Stream({ stream: options.stream })
    : new winston.transports.Console();
  return winston.createLogger({
    level: options.level ?? 'info',
    silent: options.silent ?? false,
    format: winston.format.combine(winston.format.timestamp(), redactFormat(), winston.format.json()),
    transports: [transport],
  });
}
