import type { Logger } from './logger.ts';

const LEVEL = Symbol.for('level'); // triple-beam's
const noop = () => {};

/** Writes one info entry; `enabled` says whether the logger would write it at all. */
export interface InfoWriter {
  (entry: Record<string, unknown>): void;
  readonly enabled: () => boolean;
}

/**
 * Info lines written as winston writes them (the logger's own format, so its timestamp
 * and redaction, then its transports, by their levels) but without the object stream
 * winston puts between `logger.info` and a transport: for a line written once per
 * request (the proxy's audit line) that stream was most of the line's cost.
 */
export function infoWriter(logger: Logger): InfoWriter {
  const enabled = () => !logger.silent && logger.isInfoEnabled();
  const write = (entry: Record<string, unknown>) => {
    if (!enabled()) return;
    const info = entry as Record<string | symbol, unknown>;
    if (logger.defaultMeta) Object.assign(info, logger.defaultMeta);
    info['level'] = 'info';
    info[LEVEL] = 'info';
    const line = logger.format.transform(info as never, logger.format.options);
    if (!line) return;
    const infoLevel = logger.levels['info'] ?? 2;
    for (const transport of logger.transports) {
      if (transport.silent) continue;
      const level = transport.level === undefined ? undefined : logger.levels[transport.level];
      if (level !== undefined && level < infoLevel) continue;
      transport.log?.(line, noop);
    }
  };
  return Object.assign(write, { enabled });
}
