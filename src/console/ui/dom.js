// Building DOM nodes without HTML strings: text always goes in as a text node, so
// nothing a tenant controls is ever parsed as markup (the CSP's Trusted Types rule
// makes innerHTML throw anyway).

/**
 * An element with properties, attributes and children. Strings and numbers become
 * text nodes; null, undefined and false children are left out.
 * @param {string} tag
 * @param {Record<string, unknown>} [props] `class`, `text`, `on<event>` handlers, `data-*`, `aria-*`, or DOM properties
 * @param {...(Node | string | number | null | undefined | false)} children
 * @returns {HTMLElement}
 */
export function h(tag, props = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = String(value);
    else if (key === 'text') el.textContent = String(value);
    else if (key.startsWith('on') && typeof value === 'function') {
      el.addEventListener(key.slice(2), /** @type {EventListener} */ (value));
    } else if (key.startsWith('data-') || key.startsWith('aria-') || key === 'role' || key === 'for') {
      el.setAttribute(key, String(value));
    } else /** @type {Record<string, unknown>} */ (/** @type {unknown} */ (el))[key] = value;
  }
  append(el, ...children);
  return el;
}

/**
 * @param {Element} el
 * @param {...(Node | string | number | null | undefined | false)} children
 */
export function append(el, ...children) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    el.append(typeof child === 'string' || typeof child === 'number' ? String(child) : child);
  }
}

/**
 * Replaces an element's children.
 * @param {Element} el
 * @param {...(Node | string | number | null | undefined | false)} children
 */
export function replace(el, ...children) {
  el.replaceChildren();
  append(el, ...children);
}

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
export function byId(id) {
  const el = document.getElementById(id);
  if (!el) throw new Error(`the page has no #${id}`);
  return el;
}

/**
 * A UTC time as `2026-12-01 20:10 UTC`, with how far it is from now.
 * @param {string | null | undefined} iso
 * @param {number} [now]
 */
export function when(iso, now = Date.now()) {
  if (!iso) return '—';
  const t = Date.parse(iso);
  if (Number.isNaN(t)) return iso;
  const stamp = new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  return `${stamp} (${relative(t - now)})`;
}

/**
 * A table cell's content for a time: how far from now, with the UTC time below it.
 * @param {string | null | undefined} iso
 * @param {number} [now]
 * @param {string} [prefix] e.g. the result of what happened then
 */
export function whenCell(iso, now = Date.now(), prefix = '') {
  const t = iso ? Date.parse(iso) : NaN;
  if (Number.isNaN(t)) return h('span', { text: prefix || (iso ?? '—') });
  const stamp = new Date(t).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
  const head = prefix ? `${prefix} · ${relative(t - now)}` : relative(t - now);
  return h('span', { title: iso }, h('span', { text: head }), h('small', { text: stamp }));
}

/** @param {number} ms */
function relative(ms) {
  const abs = Math.abs(ms);
  const [n, unit] =
    abs < 60_000
      ? [Math.round(abs / 1000), 's']
      : abs < 3_600_000
        ? [Math.round(abs / 60_000), 'min']
        : abs < 172_800_000
          ? [Math.round(abs / 3_600_000), 'h']
          : [Math.round(abs / 86_400_000), 'd'];
  return ms >= 0 ? `in ${n} ${unit}` : `${n} ${unit} ago`;
}

/**
 * Copies text to the clipboard; where the page is not a secure context (plain http on a
 * non-loopback host) it selects the field instead, so the operator can press Ctrl+C.
 * @param {string} value
 * @param {HTMLInputElement} [field]
 * @returns {Promise<boolean>} whether the text reached the clipboard
 */
export async function copy(value, field) {
  try {
    await navigator.clipboard.writeText(value);
    return true;
  } catch {
    field?.focus();
    field?.select();
    return false;
  }
}
