/**
 * How long what the connector keeps of a run stays (docs/configuration.md › `RUN_HISTORY_DAYS`):
 *
 * - a run's **bookkeeping** — its step claims (`run_steps`) and the roster reports kept for it
 *   (`run_reports`) — only orders a run while it is in flight (a step decided once, a report taken by
 *   the step that records `published`): it goes once it is a day old and its run has ended;
 * - the **run** itself is its school's history (the dashboard's runs, the failure streak, the
 *   notifier): kept `RUN_HISTORY_DAYS` after it was requested. It names who asked for it (a manual
 *   run's actor is an e-mail address) and the ids of records iSAMS sent that could not be read, so it
 *   is not kept for ever.
 *
 * Only what is of ended runs (domain/sync-run `TERMINAL_STATUSES`) goes: nothing of a run still
 * requested, fetching, fetched, published or applying is dropped, however old (the stale-run sweep
 * and the roster's time-out end those). An ended run never reads its step claims again (a step is
 * only brought forward while the run is in it), and a report that comes after its kept reports went
 * is kept again and judged by the run's own `rosterSequence`.
 */
export const RUN_BOOKKEEPING_RETENTION_MS = 24 * 3_600_000;
