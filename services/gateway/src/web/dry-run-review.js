import { api } from './api.js';
import { errorBox, h, table, tableRow } from './dom.js';
import { personName } from './held-batch.js';

const PAGE = 200;

/** What happens to a change of a dry run, and why, in plain words. */
function outcome(c, run) {
  if (c.disposition === 'held')
    return ['Held for review', run.holdReason ?? 'removals above the safety threshold wait for an admin'];
  if (c.disposition === 'discarded')
    return ['Kept', 'an admin discarded this removal earlier; held until their data changes in iSAMS'];
  switch (c.change) {
    case 'added':
      return ['Added', 'new in iSAMS'];
    case 'restored':
      return ['Restored', 'back in iSAMS within the grace period'];
    case 'updated':
      return ['Updated', `changed: ${(c.changedFields ?? []).join(', ')}`];
    case 'removed':
      return ['Removed', 'no longer in iSAMS'];
    default:
      return [c.change, ''];
  }
}

/** A change as a row of the change list. */
function changeRow(c, run) {
  const [what, why] = outcome(c, run);
  return [c.entityType, personName(c), h('span', { class: 'mono' }, c.entityId), what, why];
}

/**
 * The change list, PAGE changes at a time: "Show more changes" appends the next page (the roster's
 * page token) until the list is whole, with how many are shown of how many.
 */
function changeList(runId, run, first) {
  const list = table(
    'Change list',
    ['Type', 'Who', 'Id', 'What happens', 'Why'],
    first.changes.map((c) => changeRow(c, run)),
  );
  const body = list.querySelector('tbody');
  const status = h('p', { class: 'hint', id: 'dry-run-shown', 'aria-live': 'polite' });
  const more = h('button', { type: 'button', id: 'dry-run-more' }, 'Show more changes');
  const failure = h('div');
  let shown = first.changes.length;
  let next = first.page.nextPageToken;
  const total = first.page.totalSize;
  const update = () => {
    status.textContent = next
      ? `Showing ${shown}${total ? ` of ${total}` : ''} changes; the counts above cover all.`
      : `All ${shown} changes shown.`;
    more.hidden = !next;
  };
  more.addEventListener('click', async () => {
    more.disabled = true;
    try {
      const page = await api.runChanges(runId, { pageSize: PAGE, pageToken: next });
      body.append(...page.changes.map((c) => tableRow(changeRow(c, run))));
      shown += page.changes.length;
      next = page.page.nextPageToken;
      failure.replaceChildren();
    } catch (err) {
      failure.replaceChildren(errorBox(err, 'The next changes could not be loaded'));
    } finally {
      more.disabled = false;
      update();
    }
  });
  update();
  return h('div', {}, list, first.page.nextPageToken ? [status, more, failure] : null);
}

/**
 * A dry run's review: every change a real run would make (added, updated, removed, held, kept by a
 * discard — and why), page by page, and the booking impact of only the removals a real run would
 * apply.
 */
export async function dryRunReview(runId, run) {
  const section = h('div', { class: 'dry-run-review', id: 'dry-run-review' });
  try {
    const [changes, impact] = await Promise.all([
      api.runChanges(runId, { pageSize: PAGE }),
      api.runImpact(runId),
    ]);
    section.append(
      h('h3', {}, 'What a real run would do'),
      h(
        'p',
        { id: 'dry-run-impact', class: impact.totalBookingsToCancel > 0 ? 'bad' : 'ok' },
        impact.totalBookingsToCancel > 0
          ? `A real run would cancel ${impact.totalBookingsToCancel} bookings for ${impact.familiesAffected} families (${impact.peopleConsidered} people removed now; held removals cancel nothing until approved).`
          : 'A real run would cancel no bookings (held removals cancel nothing until approved).',
      ),
      impact.totalBookingsToHold > 0
        ? h(
            'p',
            { class: 'hint' },
            `${impact.totalBookingsToHold} bookings in live evenings would be held, not cancelled.`,
          )
        : null,
      changes.changes.length === 0 ? h('p', {}, 'Nothing would change.') : changeList(runId, run, changes),
    );
  } catch (err) {
    if (err.status === 404) return null;
    section.append(errorBox(err, 'The change list is not available'));
  }
  return section;
}
