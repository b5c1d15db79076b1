import type { Logger } from '../observability/logger.ts';
import type { EventBus } from './bus.ts';
import type { EventType } from './catalogue.ts';

// A million credentials scheduled at start would be a million info lines.
const LEVELS: Partial<Record<EventType, string>> = {
  'refresh-scheduled': 'debug',
  'refresh-failed': 'warn',
  'needs-reauth': 'warn',
  'connect-failed': 'warn',
};

/** One log line per event, named after it. */
export function logEvents(bus: EventBus, logger: Logger): void {
  bus.subscribe(({ type, data }) => logger.log(LEVELS[type] ?? 'info', type, { event: type, ...data }));
}
