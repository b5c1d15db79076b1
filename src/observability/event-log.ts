import { randomBytes } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import { REFRESH_EVENTS, type RefreshEvent } from '../refresh/events.ts';
import { redact } from './redact.ts';

export interface LoggedEvent {
  /** `<boot>-<seq>`: the boot part tells a resuming client that the process restarted. */
  id: string;
  name: string;
  data: RefreshEvent;
}

export type EventSubscriber = (event: LoggedEvent) => void;

/**
 * The recent refresh events, in a bounded ring, for server-sent-event clients: live
 * ones get every new event, and a reconnecting one resumes after its Last-Event-ID.
 * Events are scrubbed once more on the way in; they never hold a token anyway.
 */
export class EventLog {
  readonly #ring: Array<LoggedEvent | undefined>;
  readonly #boot = randomBytes(4).toString('hex');
  readonly #subscribers = new Set<EventSubscriber>();
  #seq = 0;

  constructor({ size }: { size: number }) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError('EventLog size must be a positive integer');
    this.#ring = new Array<LoggedEvent | undefined>(size);
  }

  /** Records every refresh lifecycle event the emitter sends. */
  follow(emitter: EventEmitter): void {
    for (const name of REFRESH_EVENTS) emitter.on(name, (event: RefreshEvent) => this.append(name, event));
  }

  append(name: string, data: RefreshEvent): LoggedEvent {
    this.#seq += 1;
    const event: LoggedEvent = { id: `${this.#boot}-${this.#seq}`, name, data: redact(data) as RefreshEvent };
    this.#ring[this.#seq % this.#ring.length] = event;
    for (const subscriber of this.#subscribers) subscriber(event);
    return event;
  }

  /**
   * What a client that last saw `lastEventId` missed. `gap` is true when some of it
   * fell out of the ring or the id is from another process life (everything kept is sent).
   */
  since(lastEventId: string | undefined): { events: LoggedEvent[]; gap: boolean } {
    const oldest = Math.max(1, this.#seq - this.#ring.length + 1);
    if (lastEventId === undefined) return { events: [], gap: false };
    const match = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId);
    const seen = match && match[1] === this.#boot ? Number(match[2]) : undefined;
    const from = seen === undefined ? oldest : Math.max(oldest, seen + 1);
    const events: LoggedEvent[] = [];
    for (let seq = from; seq <= this.#seq; seq += 1) {
      const event = this.#ring[seq % this.#ring.length];
      if (event) events.push(event);
    }
    return { events, gap: seen === undefined || seen + 1 < oldest };
  }

  subscribe(subscriber: EventSubscriber): () => void {
    this.#subscribers.add(subscriber);
    return () => this.#subscribers.delete(subscriber);
  }
}
