import { api } from './api.js';
import { announce, commentBox, errorBox, h, panel, replace, table, when } from './dom.js';

const REASONS = {
  slot_taken: 'the slot has been booked by someone else',
  teacher_busy: 'the teacher is booked elsewhere at that time',
  event_finished: 'the event has finished',
  grace_expired: 'the grace period has ended',
  other_person_removed: 'another person of the booking is still removed',
  active_again: 'already back in the roster',
  removed_by_later_run: 'removed again by a later sync (undo that one)',
  purged: 'the grace period has ended and the data was purged',
};
const OUTCOME = { reinstated: 'Reinstated', can_reinstate: 'Can be reinstated' };
const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;

function restoredSummary(restore) {
  const by = {};
  for (const r of restore) by[r.entityType] = (by[r.entityType] ?? 0) + 1;
  const people = [
    by.pupil ? plural(by.pupil, 'pupil', 'pupils') : null,
    by.staff ? plural(by.staff, 'member of staff', 'staff') : null,
    by.contact ? plural(by.contact, 'parent contact', 'parent contacts') : null,
  ].filter(Boolean);
  const others = restore.length - (by.pupil ?? 0) - (by.staff ?? 0) - (by.contact ?? 0);
  return [
    people.join(', ') || 'nobody',
    others > 0 ? ` and ${plural(others, 'other record', 'other records')} (memberships, groups…)` : '',
  ].join('');
}

function bookingsTable(lines) {
  return table(
    'Bookings the sync cancelled',
    ['Time', 'Pupil', 'Teacher', 'Parent', 'What undoing does'],
    lines.map((l) => [
      when(l.booking.startsAt),
      h('span', { class: 'mono' }, l.booking.pupilId ?? '—'),
      h('span', { class: 'mono' }, l.booking.staffId ?? '—'),
      h('span', { class: 'mono' }, l.booking.contactId ?? '—'),
      OUTCOME[l.outcome] ?? `Not reinstated: ${REASONS[l.outcome] ?? l.outcome}`,
    ]),
  );
}

/**
 * Undo a sync: first what it would restore and which bookings would come back (and which not,
 * and why), then — after the admin confirms — what was restored and reinstated.
 */
export async function renderUndo(root, syncRunId) {
  const outcomeEl = h('div', { 'aria-live': 'polite' });
  const comment = commentBox('undo-comment');
  let timer;

  function report(r) {
    const b = r.bookings;
    if (r.undo.status === 'undoing') {
      // Recorded; the roster works it through in the background: follow it until it is done.
      replace(
        outcomeEl,
        h(
          'div',
          { class: 'success-box', role: 'status', id: 'undo-report' },
          `Being undone: restoring ${restoredSummary(r.undo.restore)}…`,
        ),
      );
      timer = setTimeout(() => void refresh(), 1000);
      return;
    }
    replace(
      outcomeEl,
      h(
        'div',
        { class: 'success-box', role: 'status', id: 'undo-report' },
        `Undone by ${r.undo.undoneBy ?? 'you'} ${when(r.undo.undoneAt)}: restored ${restoredSummary(r.undo.restore)}. `,
        `${plural(b.reinstated, 'booking', 'bookings')} reinstated`,
        b.canReinstate > 0 ? `, ${b.canReinstate} still being reinstated` : '',
        b.notReinstated.length
          ? `; not reinstated: ${b.notReinstated.map((x) => `${x.count} (${REASONS[x.reason] ?? x.reason})`).join(', ')}.`
          : '.',
      ),
      b.lines.length ? bookingsTable(b.lines) : null,
    );
    // The bookings service reinstates as the restored events arrive: follow it until it is done.
    if (b.canReinstate > 0) timer = setTimeout(() => void refresh(), 1000);
  }

  async function refresh() {
    try {
      report(await api.runUndo(syncRunId));
    } catch (err) {
      replace(outcomeEl, errorBox(err, 'The undo report could not be loaded'));
    }
  }

  async function undo(button) {
    button.disabled = true;
    try {
      const r = await api.undoRun(syncRunId, comment.value.trim());
      announce(r.undo.status === 'undone' ? 'Sync undone' : 'Sync being undone');
      report(r);
    } catch (err) {
      button.disabled = false;
      replace(outcomeEl, errorBox(err, 'The sync was not undone'));
    }
  }

  replace(root, h('p', {}, 'Working out what undoing would restore…'));
  const first = await api.runUndo(syncRunId);
  const { undo: u, bookings: b } = first;
  const possible = u.status === 'possible';
  replace(
    root,
    h('p', {}, h('a', { href: '#/dashboard' }, '← Back to the dashboard')),
    h('h1', {}, 'Undo a sync'),
    h('p', {}, 'Sync ', h('span', { class: 'mono' }, syncRunId)),
    h(
      'section',
      { 'aria-labelledby': 'undo-impact-h' },
      h('h2', { id: 'undo-impact-h' }, possible ? 'If you undo this sync' : 'This sync was undone'),
      h(
        'p',
        { id: 'undo-restore' },
        possible
          ? `Undoing restores ${restoredSummary(u.restore)} that this sync removed.`
          : `It restored ${restoredSummary(u.restore)}.`,
        u.skipped.length
          ? ` Not restored: ${u.skipped.map((s) => `${s.count} (${REASONS[s.reason] ?? s.reason})`).join(', ')}.`
          : '',
      ),
      possible
        ? h(
            'p',
            { class: b.notReinstated.length ? 'bad' : 'ok', id: 'undo-bookings' },
            b.lines.length === 0
              ? 'The sync cancelled no bookings.'
              : `${plural(b.canReinstate, 'booking', 'bookings')} the sync cancelled can be reinstated` +
                  (b.notReinstated.length
                    ? `; ${b.notReinstated.map((x) => `${x.count} cannot (${REASONS[x.reason] ?? x.reason})`).join(', ')}.`
                    : '.'),
          )
        : null,
      possible && b.lines.length ? bookingsTable(b.lines) : null,
      possible
        ? h('p', { class: 'hint' }, `A sync can be undone until ${when(u.expiresAt)} (the grace period).`)
        : null,
    ),
    possible
      ? panel(
          'undo-h',
          'Undo',
          h(
            'p',
            { class: 'hint' },
            'If the people are still missing in iSAMS, the next sync removes them again: correct iSAMS first.',
          ),
          h('label', { for: 'undo-comment' }, 'Comment (kept with your name in the audit log)'),
          comment,
          h(
            'div',
            { class: 'actions' },
            h(
              'button',
              { type: 'button', class: 'danger', id: 'undo-button', onclick: (e) => undo(e.currentTarget) },
              'Undo this sync',
            ),
          ),
        )
      : null,
    outcomeEl,
  );
  if (!possible) report(first);
  return () => clearTimeout(timer);
}
