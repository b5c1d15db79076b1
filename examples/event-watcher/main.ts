// An operator's watcher of Keygate's refresh events (events.ts): one line per event, and an
// ALERT for what needs a person, a credential only its tenant can fix (refresh-failed with
// permanent, needs-reauth). It resumes with Last-Event-ID after a drop, so an alert raised
// while it was disconnected still reaches it.
//
// By itself it shows that: it watches, disconnects, makes a refresh fail meanwhile (a tenant
// whose refresh token the demo provider never issued), then resumes from the last event it
// saw and gets the alert; exits 0. With --follow it watches until Ctrl-C.
import { keygateEvents, type KeygateEvent } from './events.ts';

const KEYGATE_URL = process.env.KEYGATE_URL ?? 'http://127.0.0.1:8080';
const ADMIN_TOKEN = process.env.KEYGATE_ADMIN_TOKEN ?? '';
if (!ADMIN_TOKEN) {
  console.error('Set KEYGATE_URL and KEYGATE_ADMIN_TOKEN to what `npm run dev` printed.');
  process.exit(2);
}

/** True for an event a person must act on. */
const needsAPerson = (e: KeygateEvent) =>
  e.type === 'needs-reauth' || (e.type === 'refresh-failed' && e.data['permanent'] === true);

function show(e: KeygateEvent): void {
  const what = `${e.type} ${e.data.tenant}/${e.data.integration}`;
  if (needsAPerson(e)) {
    const why = e.data['error'] ? ` (${String(e.data['error'])})` : '';
    console.log(`ALERT ${what}: only the tenant can fix this, by connecting again${why}`);
  } else if (e.data.tenant) {
    console.log(`${e.data.time} ${what}`);
  }
}

const watch = (options: { lastEventId?: string; signal?: AbortSignal; onOpen?: () => void } = {}) =>
  keygateEvents({
    url: KEYGATE_URL,
    adminToken: ADMIN_TOKEN,
    ...options,
    onReconnect: (ms, why) => console.log(`(${why}; reconnecting in ${ms} ms)`),
  });

if (process.argv.includes('--follow')) {
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  for await (const event of watch({ signal: stop.signal })) show(event);
} else {
  const TENANT = 'watcher-demo';
  const admin = (method: string, path: string, body?: unknown) =>
    fetch(`${KEYGATE_URL}${path}`, {
      method,
      headers: { authorization: `Bearer ${ADMIN_TOKEN}`, 'content-type': 'application/json' },
      body: body === undefined ? null : JSON.stringify(body),
    });
  const ours = (e: KeygateEvent) => e.data.tenant === TENANT;

  // 1. Watching: once the stream is open, a credential is stored for the tenant (its refresh
  //    token is one the demo provider never issued). Then the watcher goes away.
  let lastEventId = '';
  const store = () =>
    void admin('PUT', `/v1/tenants/${TENANT}/credentials/demo-oauth`, {
      accessToken: 'demo-access-token',
      refreshToken: 'a-refresh-token-the-provider-never-issued',
      expiresIn: 3600,
    });
  let opened = false;
  const onOpen = () => {
    if (opened) return; // only the first time
    opened = true;
    store();
  };
  for await (const event of watch({ onOpen })) {
    lastEventId = event.id;
    show(event);
    if (event.type === 'credential-stored' && ours(event)) break;
  }
  console.log(`(disconnected; the last event seen was ${lastEventId})`);

  // 2. Meanwhile the credential's refresh is refused for good (invalid_grant).
  const refresh = await admin('POST', `/v1/tenants/${TENANT}/credentials/demo-oauth/refresh`);
  console.log(`(while disconnected, a refresh answered ${refresh.status})`);

  // 3. Resuming after the last event seen: Keygate replays what was missed, alert included.
  let alerted = false;
  for await (const event of watch({ lastEventId })) {
    show(event);
    if (needsAPerson(event) && ours(event)) {
      alerted = true;
      break;
    }
  }
  console.log(alerted ? 'done: the alert raised while disconnected arrived on resuming' : 'no alert');
  process.exit(alerted ? 0 : 1);
}
