import { api } from './api.js';
import { errorBox, h, replace, table } from './dom.js';

const TYPES = [
  ['staff', 'Staff'],
  ['pupil', 'Pupils'],
  ['teachingSet', 'Teaching sets'],
  ['contact', 'Contacts'],
  ['form', 'Forms'],
];

function label(e) {
  const d = e.data ?? {};
  return (
    [d.title, d.forename ?? d.preferredName, d.surname].filter(Boolean).join(' ') ||
    d.name ||
    d.code ||
    e.entityId
  );
}

/** Roster browsing (staff, pupils, sets …) and the bookings of each event. */
export async function renderRoster(root) {
  const type = h(
    'select',
    { id: 'entity-type' },
    TYPES.map(([v, t]) => h('option', { value: v }, t)),
  );
  const q = h('input', { id: 'roster-q', type: 'search' });
  const results = h('div', { 'aria-live': 'polite' });
  const eventsEl = h('section', { 'aria-labelledby': 'events-h' });

  async function load() {
    try {
      const r = await api.roster(type.value, { q: q.value.trim(), pageSize: 100 });
      replace(
        results,
        table(
          'Roster',
          ['Name', 'Id', 'Status'],
          r.entities.map((e) => [label(e), h('span', { class: 'mono' }, e.entityId), e.status]),
        ),
        r.page.totalSize !== null ? h('p', { class: 'hint' }, `${r.page.totalSize} in total`) : null,
      );
    } catch (err) {
      replace(results, errorBox(err));
    }
  }

  async function loadEvents() {
    try {
      const r = await api.events();
      const rows = await Promise.all(
        r.events.map(async (e) => {
          const b = await api.eventBookings(e.id, { pageSize: 200 });
          const cancelled = b.bookings.filter((x) => x.status === 'cancelled').length;
          return [e.title, e.status, String(b.bookings.length - cancelled), String(cancelled)];
        }),
      );
      replace(
        eventsEl,
        h('h2', { id: 'events-h' }, 'Events and bookings'),
        rows.length
          ? table('Events', ['Event', 'Status', 'Booked', 'Cancelled'], rows)
          : h('p', {}, 'No events.'),
      );
    } catch (err) {
      replace(eventsEl, errorBox(err));
    }
  }

  type.addEventListener('change', load);
  let debounce;
  q.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(load, 250);
  });
  replace(
    root,
    h('h1', {}, 'Roster'),
    h('label', { for: 'entity-type' }, 'Show'),
    type,
    h('label', { for: 'roster-q' }, 'Search'),
    q,
    results,
    eventsEl,
  );
  await Promise.all([load(), loadEvents()]);
  return () => clearTimeout(debounce);
}
