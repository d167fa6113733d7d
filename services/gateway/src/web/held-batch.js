import { api, isAbort, latestOnly } from './api.js';
import { announce, commentBox, errorBox, h, panel, replace, table, when } from './dom.js';

/** Why a record is held, in plain words, by its type's hold reason. */
export const HOLD_REASON_TEXT = {
  threshold: 'more removals than the safety threshold allows',
  empty_dataset: 'its list arrived empty from iSAMS',
  dependent: 'depends on a held person (kept with them)',
  school_identity: 'the document looked like another school',
};
export const holdReasonText = (reason) => HOLD_REASON_TEXT[reason] ?? reason ?? '';

/** How long ago, in words ("3 hours", "2 days"). */
function age(iso) {
  if (!iso) return '';
  const minutes = Math.max(0, Math.round((Date.now() - new Date(iso).getTime()) / 60_000));
  if (minutes < 60) return `${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.round(minutes / 60);
  if (hours < 48) return `${hours} hour${hours === 1 ? '' : 's'}`;
  const days = Math.round(hours / 24);
  return `${days} days`;
}

export function personName(record) {
  const d = record.after ?? record.before ?? {};
  const name = [d.forename ?? d.preferredName ?? d.firstName, d.surname ?? d.lastName]
    .filter(Boolean)
    .join(' ');
  return name || d.name || d.title || record.entityId;
}

/** What an approval is doing, in plain words. */
const APPROVAL = {
  applying: 'being applied.',
  applied: 'applied.',
  failed: 'applying it failed; the sync run’s error says why.',
};

/**
 * A held batch: why it was held, its records (searchable), the booking impact of approving, approve
 * or discard. A `whole_run` batch holds every change of a sync whose document looked like another
 * school's; a `removals` batch holds a sync's suspicious removals.
 */
export async function renderHeldBatch(root, batchId) {
  const recordsEl = h('div');
  const impactEl = h('section', { 'aria-labelledby': 'impact-h', 'aria-live': 'polite' });
  const outcomeEl = h('div', { 'aria-live': 'polite' });
  const search = h('input', { id: 'held-search', type: 'search', placeholder: 'Name, code or id' });
  const comment = commentBox('decision-comment');
  let wholeRun = false;
  let reasons = {};
  let version;

  const searches = latestOnly();

  /** The records matching the search text; only the answer to the latest text is shown. */
  async function loadRecords() {
    const signal = searches.next();
    let r;
    try {
      r = await api.heldBatch(batchId, { q: search.value.trim(), pageSize: 200 }, signal);
    } catch (err) {
      if (isAbort(err) || signal.aborted) return;
      throw err;
    }
    if (signal.aborted) return;
    replace(
      recordsEl,
      table(
        'Held records',
        ['Type', 'Change', 'Who', 'Id', 'Why held'],
        r.records.map((rec) => [
          rec.entityType,
          rec.change,
          personName(rec),
          h('span', { class: 'mono' }, rec.entityId),
          holdReasonText(reasons[rec.entityType]),
        ]),
      ),
      r.page.nextPageToken
        ? h('p', { class: 'hint' }, 'Showing the first 200; search to narrow down.')
        : null,
    );
  }

  async function loadImpact() {
    replace(impactEl, h('p', {}, 'Working out which bookings would be cancelled…'));
    try {
      const i = await api.heldImpact(batchId);
      replace(
        impactEl,
        h('h2', { id: 'impact-h' }, 'If you approve'),
        h(
          'p',
          { class: i.totalBookingsToCancel > 0 ? 'bad' : 'ok', id: 'impact-summary' },
          i.totalBookingsToCancel > 0
            ? `Approving cancels ${i.totalBookingsToCancel} bookings for ${i.familiesAffected} families in ${i.events.map((e) => e.event.title).join(', ')}.`
            : 'Approving cancels no bookings.',
        ),
        i.events.length
          ? table(
              'Impact per event',
              ['Event', 'Status', 'Bookings cancelled', 'Families'],
              i.events.map((e) => [
                e.event.title,
                e.live ? 'live' : e.event.status,
                String(e.bookingsToCancel.length),
                String(e.familiesAffected),
              ]),
            )
          : null,
      );
    } catch (err) {
      replace(impactEl, errorBox(err, 'The booking impact could not be computed'));
    }
  }

  async function decide(decision) {
    for (const b of root.querySelectorAll('button.decide')) b.disabled = true;
    try {
      const b = await api.decide(batchId, decision, comment.value.trim(), version);
      replace(
        outcomeEl,
        h(
          'div',
          { class: 'success-box', role: 'status', id: 'decision-outcome' },
          decision === 'approve'
            ? `Approved by ${b.decidedBy ?? 'you'}: ${wholeRun ? 'the sync' : 'the removals'} ${wholeRun ? 'is' : 'are'} being applied.`
            : wholeRun
              ? 'Discarded: nothing of this sync was applied, and the same document will not be held again.'
              : 'Discarded: nobody was removed. These people are not held again until their data changes.',
        ),
      );
      announce(decision === 'approve' ? 'Batch approved' : 'Batch discarded');
    } catch (err) {
      if (err.code === 'ROSTER_HELD_BATCH_CHANGED') {
        replace(
          outcomeEl,
          errorBox(err, 'A later sync changed this batch: nothing was decided'),
          h(
            'button',
            { type: 'button', id: 'reload-batch', onclick: () => void renderHeldBatch(root, batchId) },
            'Show the current batch',
          ),
        );
        return;
      }
      replace(outcomeEl, errorBox(err, 'The decision was not recorded'));
      for (const b of root.querySelectorAll('button.decide')) b.disabled = false;
    }
  }

  replace(root, h('p', {}, 'Loading…'));
  const first = await api.heldBatch(batchId, { pageSize: 1 });
  const batch = first.batch;
  const pending = batch.status === 'pending';
  wholeRun = batch.kind === 'whole_run';
  version = batch.version;
  reasons = Object.fromEntries(batch.types.map((t) => [t.entityType, t.reason]));
  const decidedText =
    batch.status === 'discarded'
      ? `Discarded${batch.decidedBy ? ` by ${batch.decidedBy}` : ''} on ${when(batch.decidedAt)}: nothing was applied, and these people are held as they are until their data changes in iSAMS.`
      : batch.status === 'superseded'
        ? `Nothing left to decide since ${when(batch.decidedAt)}: everyone in it is back in iSAMS.`
        : batch.status === 'approved'
          ? `Approved${batch.decidedBy ? ` by ${batch.decidedBy}` : ''} ${when(batch.decidedAt)}: ${APPROVAL[batch.approvalState] ?? APPROVAL.applying}`
          : `This batch was ${batch.status}${batch.decidedBy ? ` by ${batch.decidedBy}` : ''} ${when(batch.decidedAt)}.`;
  replace(
    root,
    h('p', {}, h('a', { href: '#/dashboard' }, '← Back to the dashboard')),
    h(
      'h1',
      {},
      wholeRun ? `Sync held — nothing applied (${batch.total} changes)` : `Held removals (${batch.total})`,
    ),
    pending
      ? h(
          'p',
          { id: 'batch-age' },
          `Waiting for a decision since ${when(batch.createdAt)} (${age(batch.createdAt)}). `,
          batch.version > 1
            ? `Later syncs kept it up to date (last on ${when(batch.updatedAt)}, version ${batch.version}): it lists everyone still held.`
            : 'Later syncs add anyone else they hold to this batch, and drop anyone back in iSAMS.',
        )
      : null,
    h(
      'p',
      { id: 'hold-reason' },
      `Held on ${when(batch.createdAt)}. `,
      batch.reason ??
        `${batch.types.map((t) => `${t.count} ${t.entityType} (${t.reason.replace('_', ' ')})`).join(', ')} exceeded the safety threshold. Additions and updates of that sync were applied.`,
    ),
    wholeRun
      ? h(
          'p',
          { class: 'hint' },
          'Approve only if the school really moved to another iSAMS (its people change as listed below); otherwise check the iSAMS address and key in the settings and discard.',
        )
      : null,
    !pending ? h('div', { class: 'success-box', id: 'batch-decided' }, decidedText) : null,
    impactEl,
    h(
      'section',
      { 'aria-labelledby': 'records-h' },
      h('h2', { id: 'records-h' }, wholeRun ? 'What approving would change' : 'Who would be removed'),
      h('label', { for: 'held-search' }, 'Search held records'),
      search,
      recordsEl,
    ),
    pending
      ? panel(
          'decide-h',
          'Decide',
          h('label', { for: 'decision-comment' }, 'Comment (kept with your name in the audit log)'),
          comment,
          h(
            'div',
            { class: 'actions' },
            h(
              'button',
              { type: 'button', class: 'danger decide', onclick: () => decide('approve') },
              wholeRun ? 'Approve the whole sync' : 'Approve removals',
            ),
            h('button', { type: 'button', class: 'decide', onclick: () => decide('discard') }, 'Discard'),
          ),
          outcomeEl,
        )
      : null,
  );
  let debounce;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void loadRecords(), 250);
  });
  await Promise.all([loadRecords(), loadImpact()]);
  return () => {
    clearTimeout(debounce);
    searches.abort();
  };
}
