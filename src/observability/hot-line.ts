import { LineTransport } from './line-transport.ts';
import type { Logger } from './logger.ts';

const LEVEL = Symbol.for('level'); // triple-beam's
const MESSAGE = Symbol.for('message');
const noop = () => {};

/** Writes one info line formatted by its caller; `enabled` says whether the logger would write it at all. */
export interface LineWriter {
  (line: string): void;
  readonly enabled: () => boolean;
}

/**
 * Info lines formatted by their caller (a JSON object, timestamped with logTimestamp and
 * redacted by construction: see src/proxy/audit.ts) and handed straight to the logger's
 * transports, by their levels. For a line written once per request (the proxy's audit
 * line), winston's format chain (timestamp, redaction, JSON of a generic object) and its
 * object stream were most of the line's cost (docs/proxy.md#benchmark). Everything else
 * Keygate logs goes through winston as before.
 */
export function infoLineWriter(logger: Logger): LineWriter {
  const enabled = () => !logger.silent && logger.isInfoEnabled();
  const write = (line: string) => {
    if (!enabled()) return;
    const infoLevel = logger.levels['info'] ?? 2;
    for (const transport of logger.transports) {
      if (transport.silent) continue;
      const level = transport.level === undefined ? undefined : logger.levels[transport.level];
      if (level !== undefined && level < infoLevel) continue;
      if (transport instanceof LineTransport) transport.writeLine(line, 'info');
      else transport.log?.({ level: 'info', message: line, [LEVEL]: 'info', [MESSAGE]: line }, noop);
    }
  };
  return Object.assign(write, { enabled });
}
