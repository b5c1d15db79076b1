// Keygate keys: the list (metadata only), create (the key shown once), revoke.
import { seg } from './api.js';
import { byId, h, replace, whenCell } from './dom.js';
import { confirmAction, copyField, notice } from './notice.js';

export class KeysView {
  #api;
  #rows = byId('key-rows');
  #form = /** @type {HTMLFormElement} */ (byId('key-create'));
  #created = byId('key-created');

  /** @param {import('./api.js').Api} api */
  constructor(api) {
    this.#api = api;
    this.#form.addEventListener('submit', (e) => {
      e.preventDefault();
      void this.#create();
    });
    byId('key-created-done').addEventListener('click', () => this.#forget());
  }

  async load() {
    try {
      const answer = await this.#api.get('/v1/keys');
      /** @type {any[]} */
      const keys = answer?.keys ?? [];
      replace(this.#rows, ...keys.map((k) => this.#row(k)));
      if (keys.length === 0)
        replace(this.#rows, h('tr', {}, h('td', { colSpan: 6, class: 'empty', text: 'No keys yet.' })));
    } catch (err) {
      replace(
        this.#rows,
        h(
          'tr',
          {},
          h('td', { colSpan: 6, class: 'empty', text: `Could not list the keys: ${message(err)}` }),
        ),
      );
    }
  }

  /** @param {any} k */
  #row(k) {
    return h(
      'tr',
      { 'data-key': k.id },
      h('td', { class: 'mono', text: k.id }),
      h('td', { text: k.name ?? '' }),
      h('td', { text: (k.tenants ?? []).join(', ') }),
      h('td', { text: k.integrations ? k.integrations.join(', ') : 'all' }),
      h('td', {}, whenCell(k.createdAt)),
      h(
        'td',
        {},
        h(
          'div',
          { class: 'actions' },
          h('button', { type: 'button', class: 'danger', text: 'Revoke', onclick: () => this.#revoke(k) }),
        ),
      ),
    );
  }

  async #create() {
    const data = new FormData(this.#form);
    const list = (/** @type {string} */ field) =>
      String(data.get(field) ?? '')
        .split(/[\s,]+/)
        .filter(Boolean);
    const name = String(data.get('name') ?? '').trim();
    const tenants = list('tenants');
    const integrations = list('integrations');
    // The CLI's rule: a key for every tenant is asked for (*), never what an empty field gives.
    const refusal =
      tenants.length === 0
        ? 'Say which tenants the key is for: enter their names (acme, beta), or * for every tenant.'
        : tenants.includes('*') && tenants.length > 1
          ? 'Enter * alone for every tenant, or tenant names, not both.'
          : undefined;
    if (refusal) {
      notice(refusal, 'bad');
      return;
    }
    try {
      const created = await this.#api.call('POST', '/v1/keys', {
        ...(name ? { name } : {}),
        tenants,
        ...(integrations.length ? { integrations } : {}),
      });
      // The secret is shown here once and kept nowhere else: not in storage, not in the list.
      replace(byId('key-created-value'), copyField(created.key, 'The new key'));
      byId('key-created-id').textContent = created.id;
      this.#created.hidden = false;
      this.#form.reset();
      notice(`Created key ${created.id}. Copy it now: Keygate never shows it again.`);
    } catch (err) {
      notice(`Could not create the key: ${message(err)}`, 'bad');
    }
    void this.load();
  }

  #forget() {
    replace(byId('key-created-value'));
    this.#created.hidden = true;
  }

  /** @param {any} k */
  async #revoke(k) {
    const label = k.name ? `${k.id} (${k.name})` : k.id;
    if (!(await confirmAction(`Revoke key ${label}? Callers using it are refused from now on.`, 'Revoke')))
      return;
    try {
      await this.#api.call('DELETE', `/v1/keys/${seg(k.id)}`);
      notice(`Revoked key ${label}.`);
    } catch (err) {
      notice(`Could not revoke key ${label}: ${message(err)}`, 'bad');
    }
    void this.load();
  }
}

/** @param {unknown} err */
const message = (err) => (err instanceof Error ? err.message : String(err));
