// The configured integrations and the template catalogue: non-secret fields only.
import { byId, h, replace } from './dom.js';

/** @typedef {{ name: string, template?: string, baseUrl: string, auth: { type: string, scopes?: string[] }, inject?: any, connect?: boolean }} Integration */

export class CatalogView {
  #api;
  /** @type {Map<string, Integration>} */
  integrations = new Map();

  /** @param {import('./api.js').Api} api */
  constructor(api) {
    this.#api = api;
  }

  /** Loads the integrations (the first call after sign-in: a refused token shows here). */
  async loadIntegrations() {
    const answer = await this.#api.get('/v1/integrations');
    /** @type {Integration[]} */
    const integrations = answer?.integrations ?? [];
    this.integrations = new Map(integrations.map((i) => [i.name, i]));
    replace(
      byId('integration-rows'),
      ...integrations.map((i) =>
        h(
          'tr',
          { 'data-integration': i.name },
          h('td', { text: i.name }),
          h('td', { text: i.auth.type }),
          h('td', { class: 'mono', text: i.baseUrl }),
          h('td', { text: i.template ?? '' }),
          h('td', { class: 'mono', text: injection(i.inject) }),
          h('td', { text: (i.auth.scopes ?? []).join(' ') }),
          h('td', { text: i.connect ? 'yes' : 'no' }),
        ),
      ),
    );
    return [...this.integrations.keys()];
  }

  async loadTemplates() {
    try {
      const answer = await this.#api.get('/v1/templates');
      /** @type {any[]} */
      const templates = answer?.templates ?? [];
      replace(
        byId('template-rows'),
        ...templates.map((t) =>
          h(
            'tr',
            { 'data-template': t.name },
            h('td', { text: t.name }),
            h('td', { text: t.title ?? '' }),
            h('td', { text: t.category ?? '' }),
            h('td', { text: t.config?.auth?.type ?? '' }),
            h('td', { class: 'mono', text: t.config?.baseUrl ?? '' }),
            h('td', { class: 'mono', text: injection(t.config?.inject) }),
          ),
        ),
      );
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      replace(
        byId('template-rows'),
        h('tr', {}, h('td', { colSpan: 6, class: 'empty', text: `Could not list the templates: ${why}` })),
      );
    }
  }
}

/** @param {any} inject `{header, format}`, `{query}` or `{basic}`; absent is the default */
function injection(inject) {
  if (inject?.query) return `?${inject.query}=`;
  if (inject?.basic) return 'Basic';
  if (inject?.header) return `${inject.header}: ${inject.format ?? '{token}'}`;
  return 'authorization: Bearer {token}';
}
