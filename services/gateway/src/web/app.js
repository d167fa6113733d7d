import { api, session } from './api.js';
import { field, h, replace } from './dom.js';
import { renderDashboard } from './dashboard.js';
import { renderEvenings } from './evenings.js';
import { renderHeldBatch } from './held-batch.js';
import { renderRoster } from './roster.js';
import { renderSettings } from './settings.js';
import { renderUndo } from './undo.js';
import { renderWizard } from './wizard.js';

const main = () => document.getElementById('main');
let cleanup = () => {};

function renderNav() {
  const nav = document.getElementById('nav');
  if (!session.token) return replace(nav);
  replace(
    nav,
    h('a', { href: '#/dashboard' }, 'Dashboard'),
    h('a', { href: '#/roster' }, 'Roster'),
    h('a', { href: '#/evenings' }, 'Evenings'),
    h('a', { href: '#/settings' }, 'Settings'),
    h('span', {}, `School ${session.schoolId}`),
    h('button', { class: 'link', type: 'button', onclick: signOut }, 'Sign out'),
  );
}

function signOut() {
  session.clear();
  location.hash = '#/signin';
}

/** Checks the token, keeps it in this tab and opens the dashboard (or Getting Started). */
async function signIn(token) {
  try {
    const me = await api.me(token);
    session.save(token, me.schoolId);
    const settings = await api.settings();
    location.hash = settings.configured ? '#/dashboard' : '#/setup';
  } catch (err) {
    session.clear();
    throw err;
  }
}

const signInMessage = (err) => (err.status === 401 ? 'That token is not valid or was revoked.' : err.message);

/**
 * A sign-in link carries the token in the fragment (`/#token=isg_…`), which browsers never send to
 * the server, so it is in no request or access log. It is taken out of the address bar (and the
 * history entry) before anything else happens.
 */
function takeFragmentToken() {
  const match = /^#token=([^&]+)$/.exec(location.hash);
  if (!match) return null;
  history.replaceState(null, '', `${location.pathname}${location.search}`);
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

function renderSignIn(root, message) {
  const error = h('div');
  const input = h('input', {
    id: 'token',
    type: 'password',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'token-hint',
  });
  const showError = (text) => replace(error, h('div', { class: 'error-box', role: 'alert' }, text));
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        replace(error);
        try {
          await signIn(input.value.trim());
        } catch (err) {
          showError(signInMessage(err));
        }
      },
    },
    ...field(
      input,
      'Admin token',
      'token-hint',
      'The school admin token you were given (it starts with isg_), or open the sign-in link you were sent. It is kept in this browser tab only.',
    ),
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Sign in')),
    error,
  );
  replace(root, h('h1', {}, 'Sign in'), form);
  if (message) showError(message);
  input.focus();
}

async function route() {
  cleanup();
  cleanup = () => {};
  renderNav();
  const root = main();
  const linkToken = takeFragmentToken();
  if (linkToken !== null) {
    replace(root, h('p', {}, 'Signing in…'));
    try {
      await signIn(linkToken);
    } catch (err) {
      renderNav();
      renderSignIn(root, signInMessage(err));
    }
    return;
  }
  const hash = location.hash || '#/';
  if (!session.token) {
    renderSignIn(root);
    return;
  }
  const [, page, id] = hash.split('/');
  try {
    if (page === 'setup') cleanup = (await renderWizard(root)) ?? cleanup;
    else if (page === 'settings') cleanup = (await renderSettings(root)) ?? cleanup;
    else if (page === 'held' && id)
      cleanup = (await renderHeldBatch(root, decodeURIComponent(id))) ?? cleanup;
    else if (page === 'roster') cleanup = (await renderRoster(root)) ?? cleanup;
    else if (page === 'evenings') await renderEvenings(root);
    else if (page === 'undo' && id) cleanup = (await renderUndo(root, decodeURIComponent(id))) ?? cleanup;
    else cleanup = (await renderDashboard(root)) ?? cleanup;
  } catch (err) {
    replace(root, h('div', { class: 'error-box', role: 'alert' }, err.message));
  }
  root.focus({ preventScroll: true });
}

window.addEventListener('unauthenticated', () => {
  session.clear();
  if (location.hash !== '#/signin') location.hash = '#/signin';
});
// The skip link only moves the focus: following its `#main` would change the hash, which is the route.
document.querySelector('.skip-link')?.addEventListener('click', (event) => {
  event.preventDefault();
  main().focus();
});
window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', route);
