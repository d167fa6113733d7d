import { api } from './api.js';
import { h, panel, replace, table, when } from './dom.js';

const PEOPLE = { pupil: 'pupil', staff: 'teacher', contact: 'parent' };
const heldBy = (b) =>
  b.heldBy.map((c) => `${PEOPLE[c.personKind] ?? c.personKind} ${c.personId} removed`).join('; ') || '—';

/**
 * Live evenings: those marked live or open today in the school's time zone, and the bookings kept
 * although a sync removed someone they name (pending cancellation). Whatever started the sync —
 * the schedule or the Run button — such removals are held here until the evening ends.
 */
export async function renderEvenings(root) {
  replace(root, h('p', {}, 'Loading…'));
  const { timeZone, evenings } = await api.evenings();
  const held = evenings.reduce((n, e) => n + e.pending.length, 0);
  replace(
    root,
    h('h1', {}, 'Live evenings'),
    h(
      'p',
      { id: 'evenings-intro' },
      `Today is taken in the school’s time zone (${timeZone}). While an evening is live, a sync never cancels its bookings: `,
      'when someone with a booking disappears from iSAMS, the booking is kept and listed here. ',
      'When the evening ends (it is set to finished, or its day has passed) the bookings still held are cancelled; ',
      'if the person comes back in iSAMS before then, their booking stays.',
    ),
    evenings.length === 0
      ? h('p', { class: 'ok', id: 'evenings-none' }, 'No evening is live today and no cancellation is held.')
      : h(
          'p',
          { class: held > 0 ? 'bad' : 'ok', id: 'evenings-summary' },
          held > 0
            ? `${held} ${held === 1 ? 'cancellation is' : 'cancellations are'} held in ${evenings.filter((e) => e.pending.length).length} ${evenings.filter((e) => e.pending.length).length === 1 ? 'evening' : 'evenings'}.`
            : 'No cancellation is held.',
        ),
    evenings.map((e, i) =>
      panel(
        `evening-${i}`,
        e.event.title,
        h(
          'p',
          {},
          `${when(e.event.startsAt)} – ${when(e.event.endsAt)} · `,
          e.state === 'live'
            ? h('strong', {}, 'Live now')
            : e.state === 'ended'
              ? 'Ended: the held cancellations are being applied'
              : 'Not live yet',
        ),
        e.pending.length === 0
          ? h('p', { class: 'hint' }, 'No booking of this evening is held.')
          : [
              h(
                'p',
                { class: 'bad' },
                `${e.pending.length} ${e.pending.length === 1 ? 'booking' : 'bookings'} of ${e.familiesAffected} ${e.familiesAffected === 1 ? 'family' : 'families'} kept for tonight; cancelled when the evening ends.`,
              ),
              table(
                `Held cancellations of ${e.event.title}`,
                ['Time', 'Pupil', 'Teacher', 'Parent', 'Held because', 'Sync'],
                e.pending.map((b) => [
                  when(b.startsAt),
                  h('span', { class: 'mono' }, b.pupilId ?? '—'),
                  h('span', { class: 'mono' }, b.staffId ?? '—'),
                  h('span', { class: 'mono' }, b.contactId ?? '—'),
                  heldBy(b),
                  b.heldBy[0]?.syncRunId ? h('span', { class: 'mono' }, b.heldBy[0].syncRunId) : '—',
                ]),
              ),
            ],
      ),
    ),
  );
}
