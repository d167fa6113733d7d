import { api } from './api.js';
import { errorBox, h, table } from './dom.js';
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

/**
 * A dry run's review: every change a real run would make (added, updated, removed, held, kept by a
 * discard — and why), and the booking impact of only the removals a real run would apply.
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
      changes.changes.length === 0
        ? h('p', {}, 'Nothing would change.')
        : table(
            'Change list',
            ['Type', 'Who', 'Id', 'What happens', 'Why'],
            changes.changes.map((c) => {
              const [what, why] = outcome(c, run);
              return [c.entityType, personName(c), h('span', { class: 'mono' }, c.entityId), what, why];
            }),
          ),
      changes.page.nextPageToken
        ? h('p', { class: 'hint' }, `Showing the first ${PAGE} changes; the counts above cover all.`)
        : null,
    );
  } catch (err) {
    if (err.status === 404) return null;
    section.append(errorBox(err, 'The change list is not available'));
  }
  return section;
}
