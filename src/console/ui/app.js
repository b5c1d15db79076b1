// The console's entry: sign-in, the four views, and the URL that remembers the view
// and the inventory filter (never the token).
import { Api, ApiError } from './api.js';
import { CatalogView } from './catalog.js';
import { byId } from './dom.js';
import { EventsView } from './events.js';
import { FILTERS, InventoryView } from './inventory.js';
import { KeysView } from './keys.js';

const VIEWS = ['inventory', 'events', 'keys', 'integrations'];

const api = new Api();
const catalog = new CatalogView(api);
const events = new EventsView(api);
const keys = new KeysView(api);
const inventory = new InventoryView(
  api,
  () => writeUrl(),
  (name) => catalog.integrations.get(name)?.connect === true,
);

const signInForm = /** @type {HTMLFormElement} */ (byId('sign-in'));
const signInError = byId('sign-in-error');

function currentView() {
  const view = new URLSearchParams(location.search).get('view') ?? 'inventory';
  return VIEWS.includes(view) ? view : 'inventory';
}

/** @param {string} [view] */
function writeUrl(view = currentView()) {
  const params = new URLSearchParams({ view });
  const filter = inventory.filter;
  for (const key of FILTERS) if (filter[key]) params.set(key, filter[key]);
  history.replaceState(null, '', `${location.pathname}?${params}`);
}

/** @param {string} view */
function show(view) {
  for (const name of VIEWS) {
    byId(`view-${name}`).hidden = name !== view;
    const tab = byId(`tab-${name}`);
    if (name === view) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  writeUrl(view);
  byId('notice').hidden = true;
  if (view === 'inventory') void inventory.load();
  if (view === 'keys') void keys.load();
  if (view === 'integrations') void catalog.loadTemplates();
}

/** Enters the console with the token in sessionStorage; false when Keygate refuses it. */
async function enter() {
  try {
    inventory.setIntegrations(await catalog.loadIntegrations());
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) return false;
    throw err;
  }
  byId('signed-out').hidden = true;
  byId('signed-in').hidden = false;
  events.start();
  show(currentView());
  return true;
}

function signedOut(/** @type {string} */ why) {
  events.stop();
  byId('signed-in').hidden = true;
  byId('signed-out').hidden = false;
  signInError.textContent = why;
  signInError.hidden = !why;
  /** @type {HTMLInputElement} */ (signInForm.elements.namedItem('token')).focus();
}

api.onUnauthorized(() => signedOut('Keygate refused the admin token. Sign in again.'));

signInForm.addEventListener('submit', async (e) => {
  e.preventDefault();
  const field = /** @type {HTMLInputElement} */ (signInForm.elements.namedItem('token'));
  const token = field.value.trim();
  field.value = '';
  if (!token) return;
  api.signIn(token);
  try {
    if (!(await enter())) signedOut('Keygate refused that admin token.');
  } catch (err) {
    api.signOut();
    signedOut(`Could not sign in: ${err instanceof Error ? err.message : String(err)}`);
  }
});

byId('sign-out').addEventListener('click', () => {
  api.signOut();
  signedOut('');
});

for (const name of VIEWS) {
  byId(`tab-${name}`).addEventListener('click', (e) => {
    e.preventDefault();
    show(name);
  });
}

const initial = new URLSearchParams(location.search);
inventory.filter = Object.fromEntries(FILTERS.map((k) => [k, initial.get(k) ?? '']));
if (api.token) {
  enter().then(
    (ok) => ok || signedOut('Keygate refused the admin token. Sign in again.'),
    (err) => signedOut(`Could not sign in: ${err instanceof Error ? err.message : String(err)}`),
  );
} else signedOut('');
