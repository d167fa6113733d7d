import { api, isAbort, latestOnly } from './api.js';
import { errorBox, h, replace, table, tableRow } from './dom.js';

/** Events listed at a time ("Show more events" for the next): each costs two small bookings requests. */
const EVENTS_PAGE = 25;
/** The gateway's largest page, for counting bookings page by page. */
const BOOKINGS_PAGE = 200;

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

/**
 * How many bookings of an event have `status` (booked or cancelled): the bookings service's total of
 * a one-booking page, or — when it gives none — counted page by page to the end.
 */
async function countBookings(eventId, status) {
  const first = await api.eventBookings(eventId, { status, pageSize: 1 });
  if (typeof first.page.totalSize === 'number') return first.page.totalSize;
  let count = 0;
  let pageToken;
  do {
    const page = await api.eventBookings(eventId, { status, pageSize: BOOKINGS_PAGE, pageToken });
    count += page.bookings.length;
    pageToken = page.page.nextPageToken ?? undefined;
  } while (pageToken);
  return count;
}

/** An event as a row of the Events table: its title, status and how many bookings are booked and cancelled. */
async function eventRow(e) {
  const [booked, cancelled] = await Promise.all([
    countBookings(e.id, 'booked'),
    countBookings(e.id, 'cancelled'),
  ]);
  return [e.title, e.status, String(booked), String(cancelled)];
}

/**
 * The Events table, EVENTS_PAGE events at a time: "Show more events" appends the next page (the
 * bookings service's page token) until every event is listed, with how many are shown of how many.
 */
async function eventList() {
  const first = await api.events({ pageSize: EVENTS_PAGE });
  if (first.events.length === 0) return h('p', {}, 'No events.');
  const list = table(
    'Events',
    ['Event', 'Status', 'Booked', 'Cancelled'],
    await Promise.all(first.events.map(eventRow)),
  );
  const body = list.querySelector('tbody');
  const status = h('p', { class: 'hint', id: 'events-shown', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', id: 'events-more' }, 'Show more events');
  const failure = h('div');
  let shown = first.events.length;
  let next = first.page.nextPageToken;
  const total = first.page.totalSize;
  const update = () => {
    status.textContent = next
      ? `Showing ${shown}${total ? ` of ${total}` : ''} events.`
      : `All ${shown} events shown.`;
    more.hidden = !next;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const page = await api.events({ pageSize: EVENTS_PAGE, pageToken: next });
      const rows = await Promise.all(page.events.map(eventRow));
      body.append(...rows.map(tableRow));
      shown += page.events.length;
      next = page.page.nextPageToken;
      failure.replaceChildren();
    } catch (err) {
      failure.replaceChildren(errorBox(err, 'The next events could not be loaded'));
    } finally {
      more.disabled = false;
      update();
    }
  });
  update();
  return h('div', {}, list, status, more, failure);
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

  const searches = latestOnly();

  async function load() {
    const signal = searches.next();
    try {
      const r = await api.roster(type.value, { q: q.value.trim(), pageSize: 100 }, signal);
      if (signal.aborted) return;
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
      if (isAbort(err) || signal.aborted) return;
      replace(results, errorBox(err));
    }
  }

  async function loadEvents() {
    try {
      replace(eventsEl, h('h2', { id: 'events-h' }, 'Events and bookings'), await eventList());
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
  return () => {
    clearTimeout(debounce);
    searches.abort();
  };
}
