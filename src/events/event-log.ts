import type { KeygateEvent } from './catalogue.ts';
import type { EventBus, EventListener } from './bus.ts';

/**
 * The recent events, in a bounded ring, for server-sent-event clients: live ones get
 * every new event, and a reconnecting one resumes after its Last-Event-ID.
 */
export class EventLog {
  readonly #ring: Array<KeygateEvent | undefined>;
  readonly #boot: string;
  readonly #listeners = new Set<EventListener>();
  #seq = 0;

  constructor({ size, bus }: { size: number; bus: EventBus }) {
    if (!Number.isInteger(size) || size < 1) throw new TypeError('EventLog size must be a positive integer');
    this.#ring = new Array<KeygateEvent | undefined>(size);
    this.#boot = bus.boot;
    bus.subscribe((event) => this.#append(event));
  }

  #append(event: KeygateEvent): void {
    // The bus's ids are `<boot>-<seq>` with seq counting from 1, the ring's index.
    this.#seq = Number(event.id.slice(this.#boot.length + 1));
    this.#ring[this.#seq % this.#ring.length] = event;
    for (const listener of this.#listeners) listener(event);
  }

  /**
   * What a client that last saw `lastEventId` missed. `gap` is true when some of it
   * fell out of the ring or the id is from another process life (everything kept is sent).
   */
  since(lastEventId: string | undefined): { events: KeygateEvent[]; gap: boolean } {
    const oldest = Math.max(1, this.#seq - this.#ring.length + 1);
    if (lastEventId === undefined) return { events: [], gap: false };
    const match = /^([0-9a-f]+)-(\d+)$/.exec(lastEventId);
    const seen = match && match[1] === this.#boot ? Number(match[2]) : undefined;
    const from = seen === undefined ? oldest : Math.max(oldest, seen + 1);
    const events: KeygateEvent[] = [];
    for (let seq = from; seq <= this.#seq; seq += 1) {
      const event = this.#ring[seq % this.#ring.length];
      if (event) events.push(event);
    }
    return { events, gap: seen === undefined || seen + 1 < oldest };
  }

  subscribe(listener: EventListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
