import { waitFor } from './wait.ts';

/** A server-sent-events client for tests: connects with fetch and keeps what it reads. */
export interface SseMessage {
  id?: string;
  event?: string;
  data?: string;
}

export interface SseClient {
  status: number;
  messages: SseMessage[];
  /** Comment lines (`: ...`), e.g. heartbeats. */
  comments: string[];
  raw: () => string;
  close(): void;
}

export async function connectSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const abort = new AbortController();
  const res = await fetch(url, {
    headers: { accept: 'text/event-stream', ...headers },
    signal: abort.signal,
  });
  const client: SseClient = {
    status: res.status,
    messages: [],
    comments: [],
    raw: () => text,
    close: () => abort.abort(),
  };
  let text = '';
  let pending = '';
  if (!res.ok || !res.body) {
    text = await res.text();
    return client;
  }
  const decoder = new TextDecoder();
  void (async () => {
    try {
      for await (const chunk of res.body as AsyncIterable<Uint8Array>) {
        const piece = decoder.decode(chunk, { stream: true });
        text += piece;
        pending += piece;
        let end: number;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          parse(pending.slice(0, end), client);
          pending = pending.slice(end + 2);
        }
      }
    } catch {
      // aborted by close()
    }
  })();
  return client;
}

/** Keygate's admin event stream (`/v1/events`), once open: its first comment (a heartbeat) read. */
export async function openEventStream(keygateUrl: string, adminToken: string): Promise<SseClient> {
  const client = await connectSse(`${keygateUrl}/v1/events`, { authorization: `Bearer ${adminToken}` });
  try {
    await waitFor('the event stream to open', () => client.comments.length > 0);
  } catch (err) {
    client.close();
    throw err;
  }
  return client;
}

function parse(block: string, client: SseClient): void {
  const message: SseMessage = {};
  let isMessage = false;
  for (const line of block.split('\n')) {
    if (line.startsWith(':')) client.comments.push(line.slice(1).trim());
    const at = line.indexOf(': ');
    if (at < 0 || line.startsWith(':')) continue;
    const field = line.slice(0, at);
    const value = line.slice(at + 2);
    if (field === 'id' || field === 'event' || field === 'data') {
      message[field] = value;
      isMessage = true;
    }
  }
  if (isMessage) client.messages.push(message);
}
