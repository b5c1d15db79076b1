import { createParser } from 'eventsource-parser';
import type { AdminClient } from './admin-client.ts';
import { CliError } from './output.ts';

/** One event from GET /v1/events: the SSE `id`, `event:` name and the JSON `data:`. */
export interface StreamEvent {
  id: string | undefined;
  event: string;
  data: Record<string, unknown>;
}

export interface EventStream {
  /** Resolves when the stream ends (the server closed it, or close() was called). */
  ended: Promise<void>;
  /** The last event id seen, to resume with Last-Event-ID. */
  lastId(): string | undefined;
  close(): void;
}

/**
 * Opens GET /v1/events and calls `onEvent` for each event. Resolves once Keygate has
 * answered 200, that is once this client is subscribed: an event published after
 * that is never missed (the route replays and subscribes in one step).
 */
export async function openEventStream(
  client: AdminClient,
  onEvent: (event: StreamEvent) => void,
  options: { lastEventId?: string | undefined } = {},
): Promise<EventStream> {
  const abort = new AbortController();
  const headers: Record<string, string> = { accept: 'text/event-stream' };
  if (options.lastEventId) headers['last-event-id'] = options.lastEventId;
  const res = await client.fetch('GET', '/v1/events', undefined, true, { headers, signal: abort.signal });
  if (!res.ok || !res.body) {
    // The same error handling as any other admin call.
    await client.call('GET', '/v1/events').catch((err: unknown) => {
      throw err instanceof CliError ? err : new CliError(`GET /v1/events answered ${res.status}`, 1);
    });
    throw new CliError(`GET /v1/events answered ${res.status}`, 1);
  }
  let last = options.lastEventId;
  const parser = createParser({
    onEvent(message) {
      if (message.id) last = message.id;
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(message.data) as Record<string, unknown>;
      } catch {
        data = { raw: message.data };
      }
      onEvent({ id: message.id, event: message.event ?? 'message', data });
    },
  });
  const decoder = new TextDecoder();
  const ended = (async () => {
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        parser.feed(decoder.decode(chunk, { stream: true }));
      }
    } catch (err) {
      if (!abort.signal.aborted) throw new CliError(`the event stream broke: ${(err as Error).message}`, 1);
    }
  })();
  return { ended, lastId: () => last, close: () => abort.abort() };
}

/** One readable line: time, event, the credential (or key) it is about, then its other fields. */
export function formatEvent({ event, data }: StreamEvent): string {
  const { time, tenant, integration, account, replica, ...rest } = data;
  const when = typeof time === 'string' ? time.replace(/\.\d+Z$/, 'Z') : new Date().toISOString();
  const subject =
    typeof tenant === 'string'
      ? `${tenant}/${String(integration)}${account && account !== 'default' ? `/${String(account)}` : ''}`
      : '';
  const fields = Object.entries(rest)
    .filter(([, v]) => v !== undefined && v !== null)
    .map(
      ([k, v]) =>
        `${k}=${Array.isArray(v) ? v.join(',') : typeof v === 'object' ? JSON.stringify(v) : String(v)}`,
    );
  if (typeof replica === 'string') fields.push(`replica=${replica}`);
  return [when, event.padEnd(17), subject, ...fields].filter((p) => p !== '').join('  ');
}
