import { DEFAULT_TIME_ZONE } from './settings-rules';
import { OUTCOME_STATUSES } from './sync-run';
import type { RunError, RunStatus } from './sync-run';

/** The three moments a school's contacts are told about (docs/architecture.md › Being told). */
export type NotificationCondition = 'removals_held' | 'runs_failing' | 'data_stale';

export const NOTIFICATION_CONDITIONS: readonly NotificationCondition[] = [
  'removals_held',
  'runs_failing',
  'data_stale',
];

/** An e-mail to send: no pupil or staff names, only counts, codes, times and a link. */
/** The id of a notification's claim: one per school, condition and the school's local day. */
export function notificationKey(tenantId: string, condition: NotificationCondition, day: string): string {
  return `${tenantId}|${condition}|${day}`;
}

export interface NotificationMessage {
  condition: NotificationCondition;
  subject: string;
  text: string;
}

/** The calendar day (YYYY-MM-DD) of `at` in `timeZone` (an unknown zone falls back to Europe/London). */
export function localDay(at: Date, timeZone: string): string {
  const format = (tz: string) =>
    new Intl.DateTimeFormat('en-CA', {
      timeZone: tz,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    }).format(at);
  try {
    return format(timeZone);
  } catch {
    return format(DEFAULT_TIME_ZONE);
  }
}

/** `at` as the school reads it, e.g. "3 December 2026, 07:15 (Europe/London)". */
export function localTime(at: Date, timeZone: string): string {
  const format = (tz: string) =>
    `${new Intl.DateTimeFormat('en-GB', { timeZone: tz, dateStyle: 'long', timeStyle: 'short' }).format(at)} (${tz})`;
  try {
    return format(timeZone);
  } catch {
    return format(DEFAULT_TIME_ZONE);
  }
}

/** One finished run, as far as the failure streak needs it. */
export interface StreakRun {
  status: RunStatus;
  dryRun: boolean;
  error?: RunError;
}

/**
 * The error of the last `streak` real runs when they all failed with the same code, else null.
 * Dry runs and cancelled runs are not outcomes of the school's sync and are skipped; any other
 * finished run (applied, unchanged, held, or held and then discarded or superseded) ends the streak.
 */
export function failureStreak(runsNewestFirst: readonly StreakRun[], streak: number): RunError | null {
  const outcomes = runsNewestFirst.filter((r) => !r.dryRun && OUTCOME_STATUSES.includes(r.status));
  if (streak < 1 || outcomes.length < streak) return null;
  const last = outcomes.slice(0, streak);
  const first = last[0]!.error;
  if (first === undefined) return null;
  return last.every((r) => r.status === 'failed' && r.error?.code === first.code) ? first : null;
}

/**
 * True when the school's data is older than `staleAfterMs`: the last good sync (or, before the
 * first, the time the school was set up) is that old. A paused school is never stale: its admin
 * stopped the syncs.
 */
export function isStale(input: {
  enabled: boolean;
  dataAsOf: Date | null;
  configuredAt: Date;
  now: Date;
  staleAfterMs: number;
}): boolean {
  if (!input.enabled) return false;
  const since = input.dataAsOf ?? input.configuredAt;
  return input.now.getTime() - since.getTime() > input.staleAfterMs;
}

const dashboardLink = (dashboardUrl: string | undefined, path: string): string =>
  dashboardUrl === undefined ? '' : `${dashboardUrl.replace(/\/+$/, '')}/#/${path}`;

const signOff = [
  '',
  'You receive this because your school listed this address for iSAMS sync notifications in SchoolCloud',
  '(Settings › Data Input Source). You get at most one message of this kind a day.',
];

/** The end of a message about the school's syncs in general: where the details are, the sign-off. */
const detailsAndSignOff = (dashboardUrl: string | undefined): string[] => {
  const link = dashboardLink(dashboardUrl, 'dashboard');
  return ['', link === '' ? 'Details are on the Data Dashboard.' : `Details: ${link}`, ...signOff];
};

/** Held removals: counts per type and a link to the held batch, never who. */
export function removalsHeldMessage(input: {
  schoolId: string;
  holdKind: 'removals' | 'whole_run';
  heldByType: Record<string, number>;
  heldBatchId?: string;
  at: Date;
  timeZone: string;
  dashboardUrl?: string;
}): NotificationMessage {
  const total = Object.values(input.heldByType).reduce((n, c) => n + c, 0);
  const byType = Object.entries(input.heldByType)
    .filter(([, n]) => n > 0)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([t, n]) => `  - ${t}: ${n}`);
  const link =
    input.heldBatchId === undefined
      ? dashboardLink(input.dashboardUrl, 'dashboard')
      : dashboardLink(input.dashboardUrl, `held/${encodeURIComponent(input.heldBatchId)}`);
  const whole = input.holdKind === 'whole_run';
  const subject = whole
    ? `iSAMS sync (${input.schoolId}): a whole sync is held for your review`
    : `iSAMS sync (${input.schoolId}): ${total} removal${total === 1 ? '' : 's'} held for your approval`;
  const text = [
    whole
      ? `The sync of ${localTime(input.at, input.timeZone)} was held whole: the data iSAMS returned looks like another school's, so nothing of it was applied.`
      : `The sync of ${localTime(input.at, input.timeZone)} would remove more people than the safety limits allow, so ${total} change${total === 1 ? ' is' : 's are'} held for you to approve or discard. Additions and updates were applied; nobody has been removed and no booking has been cancelled.`,
    '',
    'Held, by type:',
    ...byType,
    '',
    link === '' ? 'Review it on the Data Dashboard.' : `Review it on the Data Dashboard: ${link}`,
    ...signOff,
  ].join('\n');
  return { condition: 'removals_held', subject, text };
}

/** The same error N times in a row, with what the admin should do (the error catalogue's action). */
export function runsFailingMessage(input: {
  schoolId: string;
  streak: number;
  error: RunError;
  at: Date;
  timeZone: string;
  dashboardUrl?: string;
}): NotificationMessage {
  const text = [
    `The last ${input.streak} syncs from iSAMS failed with the same error (the latest at ${localTime(input.at, input.timeZone)}):`,
    '',
    `  ${input.error.code}: ${input.error.message}`,
    '',
    `What to do: ${input.error.adminAction ?? 'Open the Data Dashboard for the details of the failed runs.'}`,
    ...detailsAndSignOff(input.dashboardUrl),
  ].join('\n');
  return {
    condition: 'runs_failing',
    subject: `iSAMS sync (${input.schoolId}): the last ${input.streak} syncs failed (${input.error.code})`,
    text,
  };
}

/** No good sync for a day (or ever, since the school was set up). */
export function dataStaleMessage(input: {
  schoolId: string;
  dataAsOf: Date | null;
  staleAfterHours: number;
  lastError?: RunError;
  timeZone: string;
  dashboardUrl?: string;
}): NotificationMessage {
  const text = [
    input.dataAsOf === null
      ? `SchoolCloud has not received any data from iSAMS yet, ${input.staleAfterHours} hours after the school was set up.`
      : `The data in SchoolCloud is older than ${input.staleAfterHours} hours: it is as of ${localTime(input.dataAsOf, input.timeZone)}, the last sync that brought it up to date.`,
    'Changes made in iSAMS since then (new pupils, leavers, timetable changes) are not in SchoolCloud.',
    ...(input.lastError === undefined
      ? []
      : [
          '',
          `The latest sync failed with ${input.lastError.code}: ${input.lastError.message}`,
          `What to do: ${input.lastError.adminAction ?? 'Open the Data Dashboard for the details.'}`,
        ]),
    ...detailsAndSignOff(input.dashboardUrl),
  ].join('\n');
  return {
    condition: 'data_stale',
    subject: `iSAMS sync (${input.schoolId}): data is more than ${input.staleAfterHours} hours old`,
    text,
  };
}
