// The page's one status line and its one confirmation dialog.
import { byId, copy, h, replace } from './dom.js';

/**
 * Shows the outcome of an action where a screen reader announces it too.
 * @param {string | Node} message
 * @param {'ok' | 'bad'} [kind]
 */
export function notice(message, kind = 'ok') {
  const el = byId('notice');
  el.dataset['kind'] = kind;
  replace(el, message);
  el.hidden = false;
}

/**
 * Asks before something that cannot be undone; resolves true when confirmed.
 * @param {string} question
 * @param {string} action the confirm button's label
 * @returns {Promise<boolean>}
 */
export function confirmAction(question, action) {
  const dialog = /** @type {HTMLDialogElement} */ (byId('confirm'));
  replace(byId('confirm-text'), question);
  const ok = byId('confirm-ok');
  ok.textContent = action;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => {
    dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true });
  });
}

/**
 * A read-only field with a Copy button, for a value the operator takes elsewhere.
 * @param {string} value
 * @param {string} label
 */
export function copyField(value, label) {
  const field = /** @type {HTMLInputElement} */ (
    h('input', {
      type: 'text',
      readOnly: true,
      value,
      class: 'copy-value',
      'aria-label': label,
      spellcheck: false,
    })
  );
  const button = h('button', { type: 'button', class: 'copy', text: 'Copy' });
  button.addEventListener('click', async () => {
    button.textContent = (await copy(value, field)) ? 'Copied' : 'Press Ctrl+C';
  });
  return h('span', { class: 'copy-field' }, field, button);
}
