// GET /v1/events read with fetch rather than EventSource: EventSource cannot send an
// Authorization header, and the admin token must not go into a URL or a cookie.

/**
 * @typedef {{ id: string | undefined, name: string, data: Record<string, unknown> }} StreamEvent
 * @typedef {'connecting' | 'live' | 'reconnecting' | 'stopped'} StreamState
 */

/**
 * Follows the event stream until `signal` aborts, reconnecting with Last-Event-ID after
 * a drop (waiting what the server's `retry:` says, 2 s by default).
 * @param {{ token: () => string | null, onEvent: (e: StreamEvent) => void,
 *   onState: (s: StreamState, detail?: string) => void, onUnauthorized: () => void,
 *   signal: AbortSignal }} options
 */
export async function followEvents({ token, onEvent, onState, onUnauthorized, signal }) {
  /** @type {string | undefined} */
  let lastId;
  let retryMs = 2000;
  onState('connecting');
  while (!signal.aborted) {
    const current = token();
    if (!current) break;
    try {
      /** @type {Record<string, string>} */
      const headers = { authorization: `Bearer ${current}`, accept: 'text/event-stream' };
      if (lastId) headers['last-event-id'] = lastId;
      const res = await fetch('/v1/events', { headers, signal, credentials: 'omit', cache: 'no-store' });
      if (res.status === 401) {
        onUnauthorized();
        break;
      }
      if (!res.ok || !res.body) throw new Error(`Keygate answered ${res.status}`);
      onState('live');
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      let pending = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        pending += value.replace(/\r\n?/g, '\n');
        let end;
        while ((end = pending.indexOf('\n\n')) >= 0) {
          const message = parse(pending.slice(0, end));
          pending = pending.slice(end + 2);
          if (message.retry !== undefined) retryMs = message.retry;
          if (message.id !== undefined) lastId = message.id;
          if (message.event) onEvent(message.event);
        }
      }
      if (!signal.aborted) onState('reconnecting', 'the stream ended');
    } catch (err) {
      if (signal.aborted) break;
      onState('reconnecting', err instanceof Error ? err.message : String(err));
    }
    await new Promise((resolve) => setTimeout(resolve, retryMs));
  }
  onState('stopped');
}

/**
 * One SSE block (lines up to a blank line), per the HTML spec's field rules.
 * @param {string} block
 * @returns {{ id?: string, retry?: number, event?: StreamEvent }}
 */
export function parse(block) {
  /** @type {{ id?: string, retry?: number, event?: StreamEvent }} */
  const out = {};
  let name = 'message';
  /** @type {string[]} */
  const data = [];
  for (const line of block.split('\n')) {
    if (line === '' || line.startsWith(':')) continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'event') name = value;
    else if (field === 'data') data.push(value);
    else if (field === 'id') out.id = value;
    else if (field === 'retry' && /^\d+$/.test(value)) out.retry = Number(value);
  }
  if (data.length > 0) {
    /** @type {Record<string, unknown>} */
    let payload;
    try {
      const parsed = JSON.parse(data.join('\n'));
      payload = parsed && typeof parsed === 'object' ? parsed : { value: parsed };
    } catch {
      payload = { value: data.join('\n') };
    }
    out.event = { id: out.id, name, data: payload };
  }
  return out;
}
