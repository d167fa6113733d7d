import { api } from './api.js';
import { announce, errorBox, h, panel, replace, table, when } from './dom.js';
import { notificationsPanel } from './notifications.js';
import { dryRunReview } from './dry-run-review.js';
import { datasetsTable } from './data-source.js';

const POLL_MS = 1000;
const STATUS_TEXT = {
  requested: 'Queued',
  fetching: 'Fetching from iSAMS',
  fetched: 'Fetched',
  published: 'Processing',
  applying: 'Applying changes',
  applied: 'Finished',
  unchanged: 'Finished (no changes in iSAMS)',
  held: 'Finished — held for review',
  failed: 'Failed',
  cancelled: 'Cancelled',
  discarded: 'Finished — held changes discarded',
  superseded: 'Finished — held changes superseded by a later sync',
};
const statusText = (s) => STATUS_TEXT[s] ?? s;
/** How a dry run ended: nothing of it was applied or held, whatever a real run would have done. */
const DRY_RUN_END_TEXT = {
  applied: 'Dry run — finished, nothing applied',
  unchanged: 'Dry run — no changes in iSAMS',
  held: 'Dry run — would be held for review',
  failed: 'Dry run — failed',
  cancelled: 'Dry run — cancelled',
};
/** A real run that held changes and ended applied: an admin approved them (its batch says who and when). */
const approvedHeld = (run) => !run.dryRun && run.status === 'applied' && Boolean(run.heldBatchId);
/** A run's status in words; a dry run's end says it was a dry run, an approved run that it was approved. */
const runStatusText = (run) =>
  (run.dryRun ? DRY_RUN_END_TEXT[run.status] : undefined) ??
  (approvedHeld(run) ? 'Finished — held changes approved' : statusText(run.status));
/** Why the school is fetched in method groups, by the failure of the whole-key request. */
const GROUPS_REASON = {
  ISAMS_TIMEOUT: 'iSAMS took too long to generate the whole document at once',
  ISAMS_SERVER_BUSY: 'iSAMS kept hitting database deadlocks while generating the whole document at once',
  ISAMS_RESPONSE_TOO_LARGE: 'the whole document was larger than SchoolCloud accepts in one response',
};
const groupsReason = (code) => GROUPS_REASON[code] ?? 'iSAMS could not deliver the whole document at once';
const statusClass = (s) =>
  s === 'failed' ? 'bad' : s === 'held' ? 'warn' : s === 'applied' || s === 'unchanged' ? 'ok' : '';

/** What a real run's held batch link says: to decide it, or — once decided — what was decided, and when. */
const HELD_BATCH_LINK = {
  held: 'Review the held changes',
  applied: 'See what was approved, and by whom',
  discarded: 'See what was discarded, and by whom',
  superseded: 'See why nothing is left to decide',
};

/** A real run's held batch: to decide it, or what was decided (approved, discarded, or superseded by a later sync). */
function heldBatchLink(run) {
  const text = HELD_BATCH_LINK[run.status];
  if (run.dryRun || !run.heldBatchId || text === undefined) return null;
  return h('p', {}, h('a', { href: `#/held/${encodeURIComponent(run.heldBatchId)}` }, text));
}

/** Counts per entity and change from the roster (typed), shown once the roster has processed the run. */
async function countsTable(runId) {
  try {
    const r = await api.runRoster(runId);
    const rows = r.counts.filter(
      (c) => c.added + c.updated + c.removed + c.restored + c.held + c.skipped > 0 || c.unchanged > 0,
    );
    return h(
      'div',
      { class: 'counts' },
      h('h3', {}, `Changes (${r.dryRun ? 'dry run — nothing applied' : (r.outcome ?? r.state)})`),
      rows.length === 0
        ? h('p', {}, 'No records.')
        : table(
            'Changes per entity',
            ['Entity', 'Added', 'Updated', 'Removed', 'Restored', 'Held', 'Unchanged', 'Skipped'],
            rows.map((c) =>
              [c.entityType, c.added, c.updated, c.removed, c.restored, c.held, c.unchanged, c.skipped].map(
                String,
              ),
            ),
          ),
      r.dryRun ? await dryRunReview(runId, r) : null,
    );
  } catch (err) {
    if (err.status === 404) return h('p', { class: 'hint' }, 'Waiting for the roster to process this run…');
    return errorBox(err, 'Counts are not available');
  }
}

async function findingsPanel(runId) {
  try {
    const r = await api.runFindings(runId);
    if (r.findings.length === 0) return h('p', {}, 'No data-quality findings.');
    const byCode = new Map();
    for (const f of r.findings) {
      const entry = byCode.get(f.code) ?? { count: 0, example: f.message, datasetId: f.datasetId };
      entry.count += 1;
      byCode.set(f.code, entry);
    }
    const total = r.page.totalSize ?? r.findings.length;
    return h(
      'div',
      {},
      h('h3', {}, `Data-quality findings (${total})`),
      h('p', { class: 'hint' }, 'Records skipped or adjusted by a stable rule; nothing here removes anyone.'),
      table(
        'Findings by rule',
        ['Rule', 'Dataset', 'Count', 'Example'],
        [...byCode].map(([code, e]) => [h('code', {}, code), e.datasetId, String(e.count), e.example]),
      ),
      h(
        'details',
        {},
        h(
          'summary',
          {},
          `Show ${r.findings.length === total ? 'all' : `the first ${r.findings.length} of`} ${total} findings`,
        ),
        table(
          'Findings',
          ['Rule', 'Dataset', 'Record', 'What it means'],
          r.findings.map((f) => [h('code', {}, f.code), f.datasetId, f.recordId, f.message]),
        ),
      ),
    );
  } catch (err) {
    return err.status === 404 ? null : errorBox(err, 'Findings are not available');
  }
}

function progressView(run) {
  const p = run.progress;
  const total = p.datasetsTotal || 14;
  return h(
    'div',
    { class: 'panel', id: 'run-progress' },
    h(
      'h3',
      {},
      run.dryRun && DRY_RUN_END_TEXT[run.status] ? '' : `Run ${run.dryRun ? '(dry run) ' : ''}— `,
      h('span', { class: statusClass(run.status), 'data-status': run.status }, runStatusText(run)),
    ),
    h('label', { for: 'progress-bar' }, `Datasets fetched: ${p.datasetsDone} of ${total}`),
    h('progress', { id: 'progress-bar', max: String(total), value: String(p.datasetsDone) }),
    run.fetch && run.fetch.mode === 'groups'
      ? h(
          'p',
          { id: 'run-method-groups' },
          `Fetched in ${run.fetch.groups.length} method groups` +
            (p.groupsTotal ? ` (${p.groupsDone} of ${p.groupsTotal} done)` : '') +
            `: ${groupsReason(run.fetch.switchedBecause)}, so SchoolCloud asks for it in parts.`,
        )
      : p.groupsTotal
        ? h('p', { id: 'run-method-groups' }, `Method groups fetched: ${p.groupsDone} of ${p.groupsTotal}`)
        : null,
    h(
      'p',
      {},
      `${p.recordsFetched.toLocaleString()} records · ${(p.bytesFetched / 1024).toFixed(0)} KB · ${p.chunksPublished}/${p.chunksTotal || '?'} chunks published`,
    ),
    datasetsTable('Datasets of this run', 'Dataset', run.datasets, '✓'),
    run.absentDatasets.length
      ? h(
          'div',
          { class: 'warning-box' },
          h('strong', {}, 'Not returned by the key (nothing was removed because of this): '),
          run.absentDatasets.join(', '),
        )
      : null,
    run.error ? errorBox(run.error, 'The run failed') : null,
  );
}

/** The dashboard: freshness, Run with live progress, history, findings, held removals. */
export async function renderDashboard(root) {
  let timer;
  let stopped = false;
  const overviewEl = h('section', { 'aria-labelledby': 'overview-h' });
  const runEl = h('section', { 'aria-live': 'polite' });
  const heldEl = h('section', { 'aria-labelledby': 'held-h' });
  const historyEl = h('section', { 'aria-labelledby': 'history-h' });
  const qualityEl = h('section', { 'aria-labelledby': 'quality-h' });
  const detailEl = h('section', { 'aria-live': 'polite' });
  const dryRun = h('input', { id: 'dry-run', type: 'checkbox' });
  const runButton = h('button', { class: 'primary', type: 'button', id: 'run-button' }, 'Run');
  const dialog = h('dialog', { 'aria-labelledby': 'live-h' });

  let streamAbort;

  async function finish(runId, run) {
    runButton.disabled = false;
    announce(run.dryRun ? runStatusText(run) : `Sync ${statusText(run.status)}`);
    runEl.firstChild?.append(await countsTable(runId));
    await Promise.all([loadOverview(), loadHistory(), loadHeld()]);
  }

  /** Live progress from the server's event stream; polling when the stream is unavailable. */
  async function watch(runId) {
    clearTimeout(timer);
    streamAbort?.abort();
    streamAbort = new AbortController();
    runButton.disabled = true;
    let last;
    try {
      await api.streamRun(
        runId,
        (run) => {
          last = run;
          if (!stopped) replace(runEl, progressView(run));
        },
        streamAbort.signal,
      );
    } catch {
      if (stopped || streamAbort.signal.aborted) return;
    }
    if (stopped) return;
    if (last?.terminal) await finish(runId, last);
    else await poll(runId);
  }

  async function loadQuality(run) {
    if (run)
      replace(
        qualityEl,
        h('h2', { id: 'quality-h' }, 'Data quality of the last sync'),
        h('p', {}, 'Loading…'),
      );
    replace(
      qualityEl,
      h('h2', { id: 'quality-h' }, 'Data quality of the last sync'),
      run
        ? ((await findingsPanel(run.syncRunId)) ?? h('p', {}, 'Not available yet.'))
        : h('p', {}, 'No sync yet.'),
    );
  }

  async function poll(runId) {
    clearTimeout(timer);
    let run;
    try {
      run = await api.run(runId);
    } catch (err) {
      replace(runEl, errorBox(err));
      runButton.disabled = false;
      return;
    }
    if (stopped) return;
    replace(runEl, progressView(run));
    if (!run.terminal) {
      runButton.disabled = true;
      timer = setTimeout(() => poll(runId), POLL_MS);
      return;
    }
    await finish(runId, run);
  }

  async function start(confirmLiveEvents) {
    runButton.disabled = true;
    clearTimeout(timer);
    replace(runEl, h('p', {}, 'Starting the sync…'));
    try {
      const { run, alreadyActive } = await api.runSync({ dryRun: dryRun.checked, confirmLiveEvents });
      if (alreadyActive) announce('A sync is already running; showing it.');
      await watch(run.syncRunId);
    } catch (err) {
      runButton.disabled = false;
      if (err.code === 'GATEWAY_LIVE_EVENT_CONFIRMATION_REQUIRED') return askLive(err.details?.events ?? []);
      replace(runEl, errorBox(err, 'The sync could not start'));
    }
  }

  function askLive(events) {
    replace(
      dialog,
      h('h2', { id: 'live-h' }, 'An event is live'),
      h(
        'p',
        {},
        h(
          'strong',
          {},
          'A sync does not cancel its bookings: bookings of teachers or students this sync removes are kept and listed under Evenings, and cancelled when the evening ends (approving held removals cancels at once, after showing the impact).',
        ),
      ),
      h('p', {}, 'Live now: ', events.map((e) => e.title).join(', ')),
      h(
        'p',
        {},
        'Consider a dry run first, or run after the evening. ',
        h('a', { href: '#/evenings' }, 'See live evenings'),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'button', onclick: () => dialog.close() }, 'Cancel'),
        h(
          'button',
          {
            type: 'button',
            class: 'danger',
            onclick: () => {
              dialog.close();
              void start(true);
            },
          },
          'Run anyway',
        ),
      ),
    );
    dialog.showModal();
  }

  runButton.addEventListener('click', async () => {
    if (!dryRun.checked) {
      try {
        const live = (await api.evenings()).evenings.filter((e) => e.state === 'live');
        if (live.length) return askLive(live.map((e) => e.event));
      } catch {
        // The server checks again; a failure here must not block the run button.
      }
    }
    await start(false);
  });

  async function loadOverview() {
    const o = await api.overview();
    replace(
      overviewEl,
      h('h2', { id: 'overview-h', class: 'visually-hidden' }, 'Overview'),
      !o.settings.configured
        ? h(
            'div',
            { class: 'warning-box' },
            'No data source yet. ',
            h('a', { href: '#/setup' }, 'Open Getting Started'),
          )
        : null,
      h(
        'div',
        { class: 'cards' },
        h(
          'div',
          { class: 'card' },
          h('div', { class: 'label' }, 'Last sync'),
          h(
            'div',
            { class: `value ${statusClass(o.lastRun?.status)}`, id: 'last-sync' },
            o.lastRun ? `${runStatusText(o.lastRun)} · ${when(o.lastRun.finishedAt)}` : 'Never',
          ),
        ),
        h(
          'div',
          { class: 'card' },
          h('div', { class: 'label' }, 'Next scheduled sync'),
          h('div', { class: 'value' }, o.nextRunAt ? when(o.nextRunAt) : 'Not scheduled'),
        ),
        h(
          'div',
          { class: 'card' },
          h('div', { class: 'label' }, 'Data as of'),
          h('div', { class: 'value', id: 'data-as-of' }, when(o.dataAsOf)),
          h('div', { class: 'hint' }, o.isamsCacheNote),
        ),
      ),
      notificationsPanel(o.notifications ?? []),
    );
    void loadQuality(o.lastRun);
    return o;
  }

  async function loadHistory() {
    const r = await api.runs({ pageSize: 15 });
    replace(
      historyEl,
      h('h2', { id: 'history-h' }, 'Run history'),
      r.runs.length === 0
        ? h('p', {}, 'No runs yet.')
        : table(
            'Run history',
            ['Requested', 'Trigger', 'Status', 'Records', 'Fetch time', 'Problem', ''],
            r.runs.map((run) => [
              when(run.requestedAt),
              `${run.trigger.kind}${run.dryRun ? ' (dry run)' : ''}`,
              h('span', { class: statusClass(run.status) }, runStatusText(run)),
              run.progress.recordsFetched.toLocaleString(),
              run.fetchDurationMs ? `${(run.fetchDurationMs / 1000).toFixed(1)} s` : '—',
              run.error
                ? h(
                    'span',
                    {},
                    run.error.message,
                    h('br'),
                    h('span', { class: 'hint' }, run.error.adminAction),
                  )
                : '',
              h('button', { type: 'button', class: 'link', onclick: () => showDetail(run) }, 'Details'),
            ]),
          ),
    );
  }

  async function showDetail(run) {
    replace(
      detailEl,
      h('h2', { id: 'detail-h' }, `Run of ${when(run.requestedAt)}`),
      progressView(run),
      heldBatchLink(run),
      ['applied', 'held', 'discarded', 'superseded'].includes(run.status) && !run.dryRun
        ? h('p', {}, h('a', { href: `#/undo/${encodeURIComponent(run.syncRunId)}` }, 'Undo this sync'))
        : null,
      await countsTable(run.syncRunId),
      await findingsPanel(run.syncRunId),
    );
    detailEl.querySelector('h2')?.setAttribute('tabindex', '-1');
    detailEl.querySelector('h2')?.focus();
  }

  async function loadHeld() {
    const [r, discarded, evenings] = await Promise.all([
      api.heldBatches({ status: 'pending' }),
      api.heldBatches({ status: 'discarded', pageSize: 1 }),
      api.evenings().catch(() => ({ evenings: [] })),
    ]);
    const lastDiscard = discarded.batches[0];
    const heldInEvenings = evenings.evenings.reduce((n, e) => n + e.pending.length, 0);
    replace(
      heldEl,
      h('h2', { id: 'held-h' }, 'Held for review'),
      heldInEvenings > 0
        ? h(
            'p',
            { class: 'warning-box', id: 'held-cancellations' },
            `${heldInEvenings} ${heldInEvenings === 1 ? 'booking cancellation is' : 'booking cancellations are'} held in live evenings. `,
            h('a', { href: '#/evenings' }, 'See live evenings'),
          )
        : null,
      lastDiscard
        ? h(
            'p',
            { class: 'hint', id: 'last-discard' },
            `Last discarded on ${when(lastDiscard.decidedAt)}: those ${lastDiscard.total} changes stay unapplied until the people’s data changes in iSAMS. `,
            h('a', { href: `#/held/${encodeURIComponent(lastDiscard.batchId)}` }, 'See what was discarded'),
          )
        : null,
      r.batches.length === 0
        ? h('p', {}, heldInEvenings > 0 ? 'No removal is held.' : 'Nothing is held.')
        : h(
            'ul',
            {},
            r.batches.map((b) =>
              b.kind === 'whole_run'
                ? h(
                    'li',
                    { class: 'warning-box' },
                    h(
                      'strong',
                      {},
                      `A whole sync is held (${when(b.createdAt)}): nothing of it was applied. `,
                    ),
                    b.reason ? h('span', { class: 'hold-reason' }, `${b.reason} `) : null,
                    h('a', { href: `#/held/${encodeURIComponent(b.batchId)}` }, 'Review the held sync'),
                  )
                : h(
                    'li',
                    { class: 'warning-box' },
                    `${b.total} removals waiting for a decision since ${when(b.createdAt)} (${b.types.map((t) => `${t.count} ${t.entityType}`).join(', ')}). `,
                    h('a', { href: `#/held/${encodeURIComponent(b.batchId)}` }, 'Review held removals'),
                  ),
            ),
          ),
    );
  }

  replace(
    root,
    h('h1', {}, 'Data Dashboard'),
    overviewEl,
    panel(
      'run-h',
      'Sync now',
      h(
        'p',
        { class: 'hint' },
        'Run a sync whenever you set up a new evening or event. A dry run shows what would change without changing anything.',
      ),
      h(
        'div',
        { class: 'actions' },
        runButton,
        h('label', { class: 'inline', for: 'dry-run' }, dryRun, 'Dry run'),
      ),
      runEl,
    ),
    heldEl,
    qualityEl,
    historyEl,
    detailEl,
    dialog,
  );
  const overview = await loadOverview();
  await Promise.all([loadHistory(), loadHeld()]);
  if (overview.activeRun) void watch(overview.activeRun.syncRunId);
  return () => {
    stopped = true;
    clearTimeout(timer);
    streamAbort?.abort();
  };
}
