// The fleet's credentials from GET /v1/credentials: filters kept in the URL, cursor paging,
// and the actions on one credential (refresh, delete, connect link).
import { seg } from './api.js';
import { byId, h, replace, when, whenCell } from './dom.js';
import { confirmAction, copyField, notice } from './notice.js';

const PAGE_SIZE = 50;
export const FILTERS = /** @type {const} */ (['tenant', 'integration', 'status', 'q']);
const OAUTH = new Set(['oauth2', 'oauth2_client_credentials']);

/** @typedef {Record<(typeof FILTERS)[number], string>} Filter */

/** @param {{ tenant: string, integration: string, account?: string }} c */
export function credentialPath(c) {
  const base = `/v1/tenants/${seg(c.tenant)}/credentials/${seg(c.integration)}`;
  return c.account && c.account !== 'default' ? `${base}/accounts/${seg(c.account)}` : base;
}

export class InventoryView {
  #api;
  #form = /** @type {HTMLFormElement} */ (byId('inventory-filter'));
  #rows = byId('inventory-rows');
  #summary = byId('inventory-summary');
  #prev = /** @type {HTMLButtonElement} */ (byId('inventory-prev'));
  #next = /** @type {HTMLButtonElement} */ (byId('inventory-next'));
  /** Cursors of the pages before this one, so Previous can go back. */
  /** @type {(string | undefined)[]} */
  #cursors = [];
  /** @type {string | undefined} */
  #cursor;
  /** @type {string | undefined} */
  #nextCursor;
  /** Answers to an older load are dropped. */
  #generation = 0;
  #onFilter;
  /** The filter of the rows shown, so that Enter, change and the typing pause load once. */
  #applied = '';
  #typing = 0;

  #canConnect;
  /** This replica's learned budgets (GET /v1/budgets), by credential. */
  /** @type {Map<string, any>} */
  #budgets = new Map();

  /**
   * @param {import('./api.js').Api} api
   * @param {(filter: Filter) => void} onFilter told when the filter changes, to keep it in the URL
   * @param {(integration: string) => boolean} canConnect whether the integration has a connect flow
   */
  constructor(api, onFilter, canConnect) {
    this.#api = api;
    this.#canConnect = canConnect;
    this.#onFilter = onFilter;
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      this.#filterChanged();
    });
    this.#form.addEventListener('change', () => this.#filterChanged());
    this.#form.addEventListener('input', (e) => {
      // Free text waits for a pause in typing; the selects apply at once (on change).
      if (/** @type {HTMLElement} */ (e.target).tagName !== 'INPUT') return;
      clearTimeout(this.#typing);
      this.#typing = window.setTimeout(() => this.#filterChanged(), 300);
    });
    this.#prev.addEventListener('click', () => {
      this.#cursor = this.#cursors.pop();
      void this.load();
    });
    this.#next.addEventListener('click', () => {
      if (!this.#nextCursor) return;
      this.#cursors.push(this.#cursor);
      this.#cursor = this.#nextCursor;
      void this.load();
    });
  }

  /** @returns {Filter} */
  get filter() {
    const data = new FormData(this.#form);
    return /** @type {Filter} */ (
      Object.fromEntries(FILTERS.map((k) => [k, String(data.get(k) ?? '').trim()]))
    );
  }

  /** @param {Partial<Filter>} filter */
  set filter(filter) {
    for (const key of FILTERS) {
      const field = /** @type {HTMLInputElement | HTMLSelectElement | null} */ (
        this.#form.elements.namedItem(key)
      );
      if (!field) continue;
      const value = filter[key] ?? '';
      if (field instanceof HTMLSelectElement && value && ![...field.options].some((o) => o.value === value)) {
        field.append(h('option', { value, text: value }));
      }
      field.value = value;
    }
  }

  /** @param {string[]} integrations configured integration names, for the filter */
  setIntegrations(integrations) {
    const select = /** @type {HTMLSelectElement} */ (this.#form.elements.namedItem('integration'));
    const chosen = select.value;
    replace(
      select,
      h('option', { value: '', text: 'any integration' }),
      ...integrations.map((n) => h('option', { value: n, text: n })),
    );
    this.filter = { ...this.filter, integration: chosen };
  }

  #filterChanged() {
    clearTimeout(this.#typing);
    if (JSON.stringify(this.filter) === this.#applied) return;
    this.#cursors = [];
    this.#cursor = undefined;
    this.#onFilter(this.filter);
    void this.load();
  }

  async load() {
    const generation = ++this.#generation;
    const started = performance.now();
    this.#summary.textContent = 'Loading…';
    this.#rows.setAttribute('aria-busy', 'true');
    try {
      const filter = this.filter;
      this.#applied = JSON.stringify(filter);
      const [page, budgets] = await Promise.all([
        this.#api.get('/v1/credentials', {
          tenant: filter.tenant,
          integration: filter.integration,
          status: filter.status,
          q: filter.q,
          limit: String(PAGE_SIZE),
          cursor: this.#cursor,
        }),
        // Learned budgets are this replica's, in memory; a page without them still shows.
        this.#api
          .get('/v1/budgets', { tenant: filter.tenant, integration: filter.integration })
          .catch(() => undefined),
      ]);
      if (generation !== this.#generation) return;
      this.#budgets = new Map((budgets?.budgets ?? []).map((/** @type {any} */ b) => [budgetKey(b), b]));
      /** @type {any[]} */
      const credentials = page?.credentials ?? [];
      this.#nextCursor = typeof page?.nextCursor === 'string' ? page.nextCursor : undefined;
      const now = Date.now();
      replace(this.#rows, ...credentials.map((c) => this.#row(c, now)));
      if (credentials.length === 0) {
        replace(
          this.#rows,
          h('tr', {}, h('td', { colSpan: 9, class: 'empty', text: 'No credential matches.' })),
        );
      }
      const first = this.#cursors.length * PAGE_SIZE + 1;
      const total = typeof page?.total === 'number' ? ` of ${page.total}` : '';
      this.#summary.textContent = credentials.length
        ? `${first}–${first + credentials.length - 1}${total}`
        : 'none';
      // How long the page took (request + render), and a count that tests and the bench wait on.
      this.#summary.dataset['ms'] = String(Math.round(performance.now() - started));
      this.#summary.dataset['loaded'] = String(generation);
      this.#prev.disabled = this.#cursors.length === 0;
      this.#next.disabled = !this.#nextCursor;
    } catch (err) {
      if (generation !== this.#generation) return;
      this.#summary.textContent = `Could not load the inventory: ${err instanceof Error ? err.message : String(err)}`;
    } finally {
      if (generation === this.#generation) this.#rows.removeAttribute('aria-busy');
    }
  }

  /**
   * @param {any} c one credential's metadata
   * @param {number} now
   */
  #row(c, now) {
    const status = displayStatus(c);
    const last = c.lastRefresh;
    const lastResult = last ? `${last.result}${last.error ? ` (${last.error})` : ''}` : '';
    const actions = h('div', { class: 'actions' });
    const name = `${c.tenant} / ${c.integration} / ${c.account ?? 'default'}`;
    if (OAUTH.has(c.authType)) {
      actions.append(h('button', { type: 'button', text: 'Refresh', onclick: () => this.#refresh(c, name) }));
    }
    if (c.authType === 'oauth2' && this.#canConnect(c.integration)) {
      actions.append(
        h('button', { type: 'button', text: 'Connect link', onclick: () => this.#connect(c, name) }),
      );
    }
    actions.append(
      h('button', { type: 'button', class: 'danger', text: 'Delete', onclick: () => this.#delete(c, name) }),
    );
    return h(
      'tr',
      { 'data-tenant': c.tenant, 'data-integration': c.integration, 'data-account': c.account ?? 'default' },
      h('td', { text: c.tenant }),
      h('td', { text: c.integration }),
      h('td', { text: c.account ?? 'default' }),
      h('td', { text: c.authType }),
      h(
        'td',
        {},
        h('span', { class: `status ${status}`, text: status.replace('_', ' ') }),
        budgetNote(this.#budgets.get(budgetKey(c)), now),
      ),
      h('td', {}, whenCell(c.expiresAt, now)),
      h('td', {}, whenCell(c.nextRefreshAt, now)),
      h('td', { class: last?.result === 'failed' ? 'bad' : '' }, whenCell(last?.at, now, lastResult)),
      h('td', {}, actions),
    );
  }

  /** @param {any} c @param {string} name */
  async #refresh(c, name) {
    try {
      const after = await this.#api.call('POST', `${credentialPath(c)}/refresh`);
      notice(`Refreshed ${name}: now expires ${when(after?.expiresAt)}.`);
    } catch (err) {
      notice(`Refresh of ${name} failed: ${err instanceof Error ? err.message : String(err)}`, 'bad');
    }
    void this.load();
  }

  /** @param {any} c @param {string} name */
  async #delete(c, name) {
    if (
      !(await confirmAction(
        `Delete ${name}? It is gone for good and revoked at the provider where it can be.`,
        'Delete',
      ))
    )
      return;
    try {
      const answer = await this.#api.call('DELETE', credentialPath(c));
      notice(`Deleted ${name}. ${revocation(answer)}`);
    } catch (err) {
      notice(`Delete of ${name} failed: ${err instanceof Error ? err.message : String(err)}`, 'bad');
    }
    void this.load();
  }

  /** @param {any} c @param {string} name */
  async #connect(c, name) {
    try {
      const body = c.account && c.account !== 'default' ? { account: c.account } : {};
      const started = await this.#api.call(
        'POST',
        `/v1/tenants/${seg(c.tenant)}/connect/${seg(c.integration)}`,
        body,
      );
      notice(
        h(
          'span',
          {},
          `Connect link for ${name} (single use, until ${when(started.expiresAt)}): `,
          copyField(started.authorizationUrl, `Connect link for ${name}`),
        ),
      );
    } catch (err) {
      notice(`No connect link for ${name}: ${err instanceof Error ? err.message : String(err)}`, 'bad');
    }
  }
}

/** @param {{ tenant: string, integration: string, account?: string }} c */
function budgetKey(c) {
  return `${c.tenant}\n${c.integration}\n${c.account ?? 'default'}`;
}

/**
 * Under the status, the learned budget: the quota with the least left (`requests 3/12`),
 * when it is back if spent, and requests waiting; every quota in the title. Nothing when
 * this replica learned nothing for the credential.
 * @param {any} b one entry of GET /v1/budgets
 * @param {number} now
 * @returns {HTMLElement | string}
 */
export function budgetNote(b, now) {
  if (!b) return '';
  /** @type {any[]} */
  const quotas = b.quotas ?? [];
  const share = (/** @type {any} */ q) =>
    q.limit && q.remaining !== null ? q.remaining / q.limit : q.remaining === 0 ? 0 : 1;
  const tight = quotas.reduce((a, q) => (a === undefined || share(q) < share(a) ? q : a), undefined);
  const spent = (tight && tight.remaining === 0) || Boolean(b.blockedUntil);
  const parts = [];
  if (tight)
    parts.push(`${tight.name} ${tight.remaining ?? '?'}${tight.limit !== null ? `/${tight.limit}` : ''}`);
  if (b.blockedUntil) parts.push('provider said wait');
  const back = b.blockedUntil ?? tight?.resetAt;
  if (spent && back) parts.push(`back ${when(back, now).replace(/^.*\(|\)$/g, '')}`);
  if (b.waiting > 0) parts.push(`${b.waiting} waiting`);
  const title = quotas
    .map(
      (q) =>
        `${q.name}: ${q.remaining ?? '?'} of ${q.limit ?? '?'} left${q.resetAt ? `, back ${when(q.resetAt, now)}` : ''}${q.paced ? ', paced' : ''}`,
    )
    .join('\n');
  return h('small', { class: spent ? 'budget spent' : 'budget', title, text: parts.join(' · ') });
}

/**
 * The status shown: Keygate's own, or `expiring_soon` where Keygate says an active one
 * expires soon without a renewal.
 * @param {{ status: string, expiringSoon?: boolean }} c
 */
export function displayStatus(c) {
  return c.status === 'active' && c.expiringSoon ? 'expiring_soon' : c.status;
}

/** @param {any} answer DELETE's body: `{deleted, revoked, reason?}` */
function revocation(answer) {
  if (!answer || typeof answer.revoked !== 'boolean') return 'Revocation at the provider: not reported.';
  if (answer.revoked) return 'Revoked at the provider.';
  return `Not revoked at the provider${answer.reason ? ` (${answer.reason})` : ''}.`;
}
