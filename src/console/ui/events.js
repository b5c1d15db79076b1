// The live feed: this replica's events, newest first, with pause/resume and a type filter.
import { byId, h, replace } from './dom.js';
import { followEvents } from './stream.js';

/** The event names Keygate sends (more are shown as they arrive). */
export const EVENT_TYPES = [
  'refresh-scheduled',
  'refresh-success',
  'refresh-retry',
  'refresh-failed',
  'refresh-cancelled',
  'credential-stored',
  'credential-deleted',
  'connected',
  'connect-failed',
  'needs-reauth',
  'key-created',
  'key-revoked',
];

/** Rows kept on the page; older ones drop off the end. */
const KEEP = 500;
/** Fields shown in their own columns, not repeated among the details. */
const MAIN = new Set(['tenant', 'integration', 'account', 'keyId', 'replica', 'time']);

/** @typedef {import('./stream.js').StreamEvent & { receivedAt: number }} FeedEvent */

export class EventsView {
  /** @type {FeedEvent[]} newest first */
  #events = [];
  /** @type {FeedEvent[]} arrived while paused, newest first */
  #held = [];
  #paused = false;
  /** @type {AbortController | undefined} */
  #abort;
  #known = new Set(EVENT_TYPES);
  #api;
  #list = byId('event-list');
  #type = /** @type {HTMLSelectElement} */ (byId('event-type'));
  #pause = /** @type {HTMLButtonElement} */ (byId('event-pause'));
  #state = byId('event-state');
  #replica = byId('event-replica');
  #badge = byId('event-count');

  /** @param {import('./api.js').Api} api */
  constructor(api) {
    this.#api = api;
    for (const type of EVENT_TYPES) this.#type.append(h('option', { value: type, text: type }));
    this.#type.addEventListener('change', () => this.#render());
    this.#pause.addEventListener('click', () => this.#togglePause());
    byId('event-clear').addEventListener('click', () => {
      this.#events = [];
      this.#held = [];
      this.#render();
    });
  }

  start() {
    this.stop();
    this.#abort = new AbortController();
    void followEvents({
      token: () => this.#api.token,
      signal: this.#abort.signal,
      onUnauthorized: () => this.#api.unauthorized(),
      onState: (state, detail) => {
        this.#state.textContent = detail ? `${state} (${detail})` : state;
        this.#state.dataset['state'] = state;
      },
      onEvent: (event) => this.#add({ ...event, receivedAt: Date.now() }),
    });
  }

  stop() {
    this.#abort?.abort();
    this.#abort = undefined;
  }

  /** @param {FeedEvent} event */
  #add(event) {
    const replica = event.data['replica'];
    if (typeof replica === 'string' && this.#replica.textContent !== replica)
      this.#replica.textContent = replica;
    if (!this.#known.has(event.name)) {
      this.#known.add(event.name);
      this.#type.append(h('option', { value: event.name, text: event.name }));
    }
    if (this.#paused) {
      this.#held.unshift(event);
      this.#held.length = Math.min(this.#held.length, KEEP);
      this.#pause.textContent = `Resume (${this.#held.length} new)`;
      return;
    }
    this.#events.unshift(event);
    if (this.#events.length > KEEP) this.#events.length = KEEP;
    if (this.#matches(event)) this.#list.prepend(row(event));
    while (this.#list.childElementCount > KEEP) this.#list.lastElementChild?.remove();
    this.#count();
  }

  #togglePause() {
    this.#paused = !this.#paused;
    this.#pause.setAttribute('aria-pressed', String(this.#paused));
    if (!this.#paused) {
      this.#events = [...this.#held, ...this.#events].slice(0, KEEP);
      this.#held = [];
      this.#render();
    }
    this.#pause.textContent = this.#paused ? 'Resume' : 'Pause';
  }

  /** @param {FeedEvent} event */
  #matches(event) {
    return this.#type.value === '' || this.#type.value === event.name;
  }

  #render() {
    replace(this.#list, ...this.#events.filter((e) => this.#matches(e)).map(row));
    this.#count();
  }

  #count() {
    this.#badge.textContent = this.#events.length ? String(this.#events.length) : '';
  }
}

/** @param {FeedEvent} event */
function row(event) {
  const d = event.data;
  const str = (/** @type {string} */ k) => (typeof d[k] === 'string' ? /** @type {string} */ (d[k]) : '');
  const at = str('time') || new Date(event.receivedAt).toISOString();
  const who = str('keyId')
    ? `key ${str('keyId')}`
    : [str('tenant'), str('integration'), str('account')].filter(Boolean).join(' / ');
  const details = Object.entries(d)
    .filter(([k]) => !MAIN.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`)
    .join('  ');
  const kind =
    event.name.includes('failed') || event.name === 'needs-reauth'
      ? 'bad'
      : event.name.includes('retry')
        ? 'warn'
        : 'ok';
  return h(
    'li',
    { class: 'event', 'data-event': event.name },
    h('time', { dateTime: at, title: at, text: `${at.slice(11, 19)} UTC` }),
    h('span', { class: `badge ${kind}`, text: event.name }),
    h('span', { class: 'who', text: who }),
    h('span', { class: 'details', text: details }),
  );
}
