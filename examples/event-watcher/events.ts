// Keygate's live event stream, GET /v1/events (server-sent events, admin token), as an async
// iterable that never gives up: when the stream ends or the network fails it reconnects with
// Last-Event-ID, and Keygate first replays what happened meanwhile (from its buffer of
// events.bufferSize), so no event is lost to a short outage. eventsource-parser reads the
// stream; fetch is used rather than EventSource, which cannot send an Authorization header.
import { createParser, type EventSourceMessage } from 'eventsource-parser';

export interface KeygateEvent {
  /** Give it back as `lastEventId` to resume after this event. */
  id: string;
  type: string;
  data: Record<string, unknown> & { tenant?: string; integration?: string; replica: string; time: string };
}

export async function* keygateEvents(options: {
  url: string;
  adminToken: string;
  /** Resume after this event (what the last run saw last). */
  lastEventId?: string;
  signal?: AbortSignal;
  /** Each time the stream is open (first and after every reconnect). */
  onOpen?: () => void;
  onReconnect?: (delayMs: number, why: string) => void;
}): AsyncGenerator<KeygateEvent> {
  let lastEventId = options.lastEventId;
  let delayMs = 1000; // Keygate's `retry:` field overrides it
  for (let failures = 0; !options.signal?.aborted; failures += 1) {
    let why = 'the stream ended';
    const connection = new AbortController();
    const stop = () => connection.abort();
    options.signal?.addEventListener('abort', stop, { once: true });
    try {
      const res = await fetch(`${options.url}/v1/events`, {
        headers: {
          authorization: `Bearer ${options.adminToken}`,
          accept: 'text/event-stream',
          ...(lastEventId ? { 'last-event-id': lastEventId } : {}),
        },
        signal: connection.signal,
      });
      // A wrong token will not fix itself: stop rather than retry forever.
      if (res.status === 401 || res.status === 403) throw new Error(`GET /v1/events answered ${res.status}`);
      if (!res.ok || !res.body) throw Object.assign(new Error(`answered ${res.status}`), { retry: true });
      failures = 0;
      options.onOpen?.();
      const queue: EventSourceMessage[] = [];
      const parser = createParser({
        onEvent: (message) => queue.push(message),
        onRetry: (ms) => (delayMs = ms),
      });
      const decoder = new TextDecoder();
      for await (const chunk of res.body) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        for (const message of queue.splice(0)) {
          if (message.id) lastEventId = message.id;
          yield { id: message.id ?? '', type: message.event ?? 'message', data: JSON.parse(message.data) };
        }
      }
    } catch (err) {
      if (options.signal?.aborted) return;
      if (!(err instanceof TypeError) && !(err as { retry?: boolean }).retry) throw err;
      why = (err as Error).message; // the network failed, or Keygate is restarting
    } finally {
      options.signal?.removeEventListener('abort', stop);
      connection.abort();
    }
    // Back off a little more on each failure in a row, up to 30 s.
    const wait = Math.min(30_000, delayMs * 2 ** Math.min(failures, 5));
    options.onReconnect?.(wait, why);
    await new Promise((resolve) => setTimeout(resolve, wait));
  }
}
