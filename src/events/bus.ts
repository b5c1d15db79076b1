import { randomBytes } from 'node:crypto';
import type { Logger } from '../observability/logger.ts';
import { redact } from '../observability/redact.ts';
import { EVENT_FIELDS, type EventInput, type EventType, type KeygateEvent } from './catalogue.ts';

export type EventListener = (event: KeygateEvent) => void;

/** What a part that produces events is given. */
export type EventPublisher = Pick<EventBus, 'publish'>;

export interface EventBusOptions {
  replica: string;
  logger: Logger;
  now?: () => number;
}

/**
 * The one bus every part publishes to; the SSE buffer, webhooks, metrics and logs
 * subscribe. Publishing is synchronous and never fails the publisher: each event is
 * stamped (replica, time, account), cut to its catalogued fields, scrubbed once more,
 * and handed to each listener, whose errors are logged and swallowed. Listeners that
 * do slow work (webhooks) must queue it themselves.
 */
export class EventBus {
  readonly replica: string;
  /** Random per process life, so ids from a restarted replica never repeat. */
  readonly boot = randomBytes(6).toString('hex');
  readonly #logger: Logger;
  readonly #now: () => number;
  readonly #listeners = new Set<EventListener>();
  #seq = 0;

  constructor({ replica, logger, now = Date.now }: EventBusOptions) {
    this.replica = replica;
    this.#logger = logger;
    this.#now = now;
  }

  publish<T extends EventType>(type: T, input: EventInput<T>): KeygateEvent {
    const source: Record<string, unknown> = {
      ...input,
      replica: this.replica,
      time: input.time ?? new Date(this.#now()).toISOString(),
    };
    if ('tenant' in input && 'integration' in input) source['account'] = input.account ?? 'default';
    const data: Record<string, unknown> = {};
    for (const field of EVENT_FIELDS[type]) {
      if (source[field] !== undefined) data[field] = source[field];
    }
    this.#seq += 1;
    const event = { id: `${this.boot}-${this.#seq}`, type, data: redact(data) } as KeygateEvent;
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (err) {
        this.#logger.error('event listener failed', {
          event: 'event_listener_failed',
          type,
          errorName: err instanceof Error ? err.name : typeof err,
        });
      }
    }
    return event;
  }

  /** Every event from now on; returns the unsubscribe. */
  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** The number of events published by this process so far. */
  get published(): number {
    return this.#seq;
  }
}
