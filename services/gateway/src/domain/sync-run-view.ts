import type { DataSourceSettings, NotificationRecord, SyncRun, SyncStatus } from './models/connector.models';
import { SYNC_RUN_TERMINAL_STATUSES } from './models/connector.models';

const SUCCESS = new Set(['applied', 'unchanged']);
const ACTIVE = new Set(['requested', 'fetching', 'fetched', 'published', 'applying']);

/** True when a run will not change any more. */
export function isTerminalStatus(status: string): boolean {
  return (SYNC_RUN_TERMINAL_STATUSES as readonly string[]).includes(status);
}

/** The dashboard's summary of one school's data source and runs. */
export interface SchoolOverview {
  settings: DataSourceSettings;
  activeRun: SyncRun | null;
  /** The last finished real sync (a dry run keeps nothing, so it is not the school's last sync). */
  lastRun: SyncRun | null;
  lastSuccessfulRun: SyncRun | null;
  nextRunAt: string | null;
  /**
   * When the data now in SchoolCloud was fetched from iSAMS: stored by the connector for every run
   * that brought it up to date (applied, unchanged, or held with its additions and updates applied),
   * so neither a run of failures nor the page size of the run list can blank it out.
   */
  dataAsOf: string | null;
  /** The e-mails sent to the school's contacts in the last 7 days, newest first. */
  notifications: NotificationRecord[];
  /** iSAMS serves a key's output from its cache for up to this long (the key's cache setting). */
  isamsCacheNote: string;
  /**
   * Real runs whose held changes await an admin's decision (a decided run is `applied`, `discarded`
   * or `superseded`).
   */
  heldRunIds: string[];
}

/** Builds the overview from the settings, the newest runs (newest first) and the connector's status. */
export function buildOverview(
  settings: DataSourceSettings,
  runsNewestFirst: SyncRun[],
  status: SyncStatus,
): SchoolOverview {
  const real = runsNewestFirst.filter((r) => !r.dryRun);
  const lastSuccessfulRun = real.find((r) => SUCCESS.has(r.status)) ?? null;
  return {
    settings,
    activeRun: runsNewestFirst.find((r) => ACTIVE.has(r.status)) ?? null,
    lastRun: real.find((r) => isTerminalStatus(r.status)) ?? null,
    lastSuccessfulRun,
    nextRunAt: settings.enabled ? settings.nextRunAt : null,
    dataAsOf: status.dataAsOf,
    notifications: status.notifications,
    isamsCacheNote:
      'iSAMS caches a Batch API key’s output for up to an hour when the key is set to refresh hourly (24 hours by default), so the newest changes in iSAMS may appear one sync later.',
    heldRunIds: real.filter((r) => r.status === 'held').map((r) => r.syncRunId),
  };
}
