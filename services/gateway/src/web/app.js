import { api, session } from './api.js';
import { h, replace } from './dom.js';
import { renderDashboard } from './dashboard.js';
import { renderEvenings } from './evenings.js';
import { renderHeldBatch } from './held-batch.js';
import { renderRoster } from './roster.js';
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
    h('a', { href: '#/setup' }, 'Settings'),
    h('span', {}, `School ${session.schoolId}`),
    h('button', { class: 'link', type: 'button', onclick: signOut }, 'Sign out'),
  );
}

function signOut() {
  session.clear();
  location.hash = '#/signin';
}

function renderSignIn(root) {
  const error = h('div');
  const input = h('input', {
    id: 'token',
    type: 'password',
    autocomplete: 'off',
    required: true,
    'aria-describedby': 'token-hint',
  });
  const form = h(
    'form',
    {
      onsubmit: async (event) => {
        event.preventDefault();
        replace(error);
        try {
          const me = await api.me(input.value.trim());
          session.save(input.value.trim(), me.schoolId);
          const settings = await api.settings();
          location.hash = settings.configured ? '#/dashboard' : '#/setup';
        } catch (err) {
          session.clear();
          replace(
            error,
            h(
              'div',
              { class: 'error-box', role: 'alert' },
              err.status === 401 ? 'That token is not valid or was revoked.' : err.message,
            ),
          );
        }
      },
    },
    h('label', { for: 'token' }, 'Admin token'),
    h(
      'p',
      { id: 'token-hint', class: 'hint' },
      'The school admin token you were given (it starts with isg_). It is kept in this browser tab only.',
    ),
    input,
    h('div', { class: 'actions' }, h('button', { class: 'primary', type: 'submit' }, 'Sign in')),
    error,
  );
  replace(root, h('h1', {}, 'Sign in'), form);
  input.focus();
}

async function route() {
  cleanup();
  cleanup = () => {};
  renderNav();
  const root = main();
  const hash = location.hash || '#/';
  if (!session.token) {
    renderSignIn(root);
    return;
  }
  const [, page, id] = hash.split('/');
  try {
    if (page === 'setup') cleanup = (await renderWizard(root)) ?? cleanup;
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
window.addEventListener('hashchange', route);
window.addEventListener('DOMContentLoaded', route);
