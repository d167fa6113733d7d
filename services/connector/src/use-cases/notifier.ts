import type { Logger } from '@isams-sync/logger';
import { startPeriodic } from '@isams-sync/runtime';
import type { PeriodicTask } from '@isams-sync/runtime';
import { ConnectorErrors } from '../domain/connector-errors';
import type { RunRecord } from '../domain/run-record';
import type { SchoolSettings } from '../domain/school-settings';
import type { Mailer } from '../domain/mailer.port';
import { DEFAULT_TIME_ZONE } from '../domain/settings-rules';
import {
  dataStaleMessage,
  failureStreak,
  isStale,
  localDay,
  notificationKey,
  removalsHeldMessage,
  runsFailingMessage,
} from '../domain/notifications';
import type { NotificationMessage } from '../domain/notifications';
import { OUTCOME_STATUSES } from '../domain/sync-run';
import type { FreshnessReader, NotificationClaims, RunHistory, SettingsRecords } from './ports';

export interface NotifierOptions {
  /** Replica identity (recorded on the claims it makes). */
  owner: string;
  /** The same error this many real runs in a row is told about. */
  failureStreak: number;
  /** Data older than this is told about. */
  staleAfterMs: number;
  /** Every replica checks every school for old data this often (claims keep it to one e-mail). */
  checkIntervalMs: number;
  /** The Data Dashboard's address, for links in the e-mails. */
  dashboardUrl?: string;
  /** The business clock (tests inject one; the day of a claim is the school's local day of it). */
  now?: () => Date;
}

export interface NotifierDeps {
  settings: Pick<SettingsRecords, 'get' | 'all'>;
  runs: RunHistory;
  freshness: FreshnessReader;
  notifications: NotificationClaims;
  mailer: Mailer;
  logger: Logger;
}

/**
 * What one notification attempt came to (`unconfirmed`: handed to the SMTP server, which did not
 * answer; it may have been delivered, so it is not sent again that day).
 */
export type NotifyOutcome =
  'sent' | 'already_sent_today' | 'not_sent' | 'unconfirmed' | 'no_contacts' | 'nothing_to_tell';

/**
 * E-mails a school's chosen contacts when removals are held, when runs keep failing with the same
 * error and when its data is older than a day — at most once per condition, school and local day
 * across replicas: the e-mail is claimed by a unique insert before it is sent and the claim is given
 * back when the SMTP server refuses it. At most once: a replica that dies between claiming and
 * sending, or an e-mail handed to the server that never answered, keeps that day's claim of that
 * condition (docs/architecture.md › Being told).
 */
export class Notifier {
  private checks: PeriodicTask | undefined;
  private readonly now: () => Date;

  constructor(
    private readonly deps: NotifierDeps,
    private readonly opts: NotifierOptions,
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Checks every `checkIntervalMs`, one check at a time (libs/runtime `startPeriodic`). */
  start(): void {
    this.checks = startPeriodic(() => this.sweep(), {
      name: 'notification check',
      intervalMs: this.opts.checkIntervalMs,
      logger: this.deps.logger,
    });
  }

  async stop(): Promise<void> {
    await this.checks?.stop();
    this.deps.mailer.close();
  }

  /** A run ended (from sync.runs.v1): held removals and failure streaks are told about now. */
  async runEnded(tenantId: string, syncRunId: string): Promise<NotifyOutcome> {
    const run = await this.deps.runs.get(tenantId, syncRunId);
    if (!run || run.dryRun) return 'nothing_to_tell';
    const settings = await this.deps.settings.get(tenantId);
    if (!settings) return 'nothing_to_tell';
    if (run.status === 'held') return this.notify(settings, this.removalsHeld(settings, run), run._id);
    if (run.status === 'failed') return this.checkFailing(settings);
    return 'nothing_to_tell';
  }

  /**
   * Checks every school for held removals, old data and failure streaks (a held run or a streak
   * whose e-mail the SMTP server refused is tried again here, without waiting for another run).
   */
  async sweep(): Promise<void> {
    for await (const settings of this.deps.settings.all()) {
      if ((settings.notificationEmails ?? []).length === 0) continue;
      await this.checkHeld(settings).catch((err: unknown) =>
        this.deps.logger.warn({ err, tenantId: settings.tenantId }, 'held-removals check failed'),
      );
      await this.checkStale(settings).catch((err: unknown) =>
        this.deps.logger.warn({ err, tenantId: settings.tenantId }, 'old-data check failed'),
      );
      await this.checkFailing(settings).catch((err: unknown) =>
        this.deps.logger.warn({ err, tenantId: settings.tenantId }, 'failing-runs check failed'),
      );
    }
  }

  /**
   * Tells the school's contacts of its held run — the newest real run that reached the roster (a
   * failed one did not; an approval reports the held run itself `applied`, a discard `discarded`,
   * a batch a later run left nothing of `superseded`, and none is told) — when the roster's report of it came today. A run held on an earlier day
   * is told by `runEnded` of each later run that is still held, not here.
   */
  async checkHeld(settings: SchoolSettings): Promise<NotifyOutcome> {
    const runs = await this.recentRuns(settings.tenantId);
    const latest = runs.find((r) => r.status !== 'failed');
    if (latest?.status !== 'held') return 'nothing_to_tell';
    const timeZone = settings.timeZone ?? DEFAULT_TIME_ZONE;
    const reportedOn = localDay(latest.finishedAt ?? latest.requestedAt, timeZone);
    if (reportedOn !== localDay(this.now(), timeZone)) return 'nothing_to_tell';
    return this.notify(settings, this.removalsHeld(settings, latest), latest._id);
  }

  /** Tells the school's contacts when its last N real runs failed with the same error. */
  async checkFailing(settings: SchoolSettings): Promise<NotifyOutcome> {
    const runs = await this.recentRuns(settings.tenantId);
    const error = failureStreak(runs, this.opts.failureStreak);
    if (error === null) return 'nothing_to_tell';
    const latest = runs[0]!;
    return this.notify(
      settings,
      runsFailingMessage({
        schoolId: settings.tenantId,
        streak: this.opts.failureStreak,
        error,
        at: latest.finishedAt ?? latest.requestedAt,
        timeZone: settings.timeZone ?? DEFAULT_TIME_ZONE,
        ...this.link(),
      }),
      latest._id,
    );
  }

  /** Tells the school's contacts when its data is older than the limit. */
  async checkStale(settings: SchoolSettings): Promise<NotifyOutcome> {
    const freshness = await this.deps.freshness.get(settings.tenantId);
    const stale = isStale({
      enabled: settings.enabled,
      dataAsOf: freshness?.dataAsOf ?? null,
      configuredAt: settings.keyUpdatedAt,
      now: this.now(),
      staleAfterMs: this.opts.staleAfterMs,
    });
    if (!stale) return 'nothing_to_tell';
    const [latest] = await this.recentRuns(settings.tenantId);
    return this.notify(
      settings,
      dataStaleMessage({
        schoolId: settings.tenantId,
        dataAsOf: freshness?.dataAsOf ?? null,
        staleAfterHours: Math.round(this.opts.staleAfterMs / 3_600_000),
        ...(latest?.status === 'failed' && latest.error ? { lastError: latest.error } : {}),
        timeZone: settings.timeZone ?? DEFAULT_TIME_ZONE,
        ...this.link(),
      }),
    );
  }

  /** The held-removals e-mail of a held run: counts per type, the held batch's link. */
  private removalsHeld(settings: SchoolSettings, run: RunRecord): NotificationMessage {
    const heldByType: Record<string, number> = {};
    for (const [type, counts] of Object.entries(run.rosterCounts ?? {})) {
      const held = (counts as { held?: unknown } | null)?.held;
      if (typeof held === 'number' && held > 0) heldByType[type] = held;
    }
    return removalsHeldMessage({
      schoolId: settings.tenantId,
      holdKind: run.holdKind ?? 'removals',
      heldByType,
      ...(run.heldBatchId === undefined ? {} : { heldBatchId: run.heldBatchId }),
      at: run.fetchedAt ?? run.requestedAt,
      timeZone: settings.timeZone ?? DEFAULT_TIME_ZONE,
      ...this.link(),
    });
  }

  private link(): { dashboardUrl?: string } {
    return this.opts.dashboardUrl === undefined ? {} : { dashboardUrl: this.opts.dashboardUrl };
  }

  /** The school's newest finished real runs (enough to see a streak past interleaved dry runs). */
  private async recentRuns(tenantId: string) {
    const runs = await this.deps.runs.newest(
      tenantId,
      OUTCOME_STATUSES,
      Math.max(10, this.opts.failureStreak * 4),
    );
    return runs.filter((r) => !r.dryRun);
  }

  private async notify(
    settings: SchoolSettings,
    message: NotificationMessage,
    syncRunId?: string,
  ): Promise<NotifyOutcome> {
    const { tenantId } = settings;
    const to = settings.notificationEmails ?? [];
    if (to.length === 0) return 'no_contacts';
    const now = this.now();
    const day = localDay(now, settings.timeZone ?? DEFAULT_TIME_ZONE);
    const id = notificationKey(tenantId, message.condition, day);
    const log = this.deps.logger.child({ tenantId, condition: message.condition, day });
    const claimed = await this.deps.notifications.claim({
      _id: id,
      tenantId,
      condition: message.condition,
      day,
      claimedAt: now,
      claimedBy: this.opts.owner,
      subject: message.subject,
      recipients: to.length,
      ...(syncRunId === undefined ? {} : { syncRunId }),
    });
    if (!claimed) return 'already_sent_today';
    try {
      await this.deps.mailer.send({ to, subject: message.subject, text: message.text });
    } catch (err) {
      if (ConnectorErrors.CONNECTOR_NOTIFICATION_UNCONFIRMED.is(err)) {
        // Handed over, then no answer: probably delivered. Sending it again at every check would
        // flood the school, so the claim stays (at most once a day).
        log.warn(
          { err },
          'notification e-mail handed to the SMTP server but not confirmed; not sent again today',
        );
        return 'unconfirmed';
      }
      await this.deps.notifications
        .release(tenantId, id)
        .catch((e: unknown) => log.warn({ err: e }, 'notification claim not released; retried tomorrow'));
      log.warn({ err }, 'notification e-mail not sent; tried again at the next check');
      return 'not_sent';
    }
    await this.deps.notifications
      .markSent(tenantId, id, this.now())
      .catch((err: unknown) => log.warn({ err }, 'sent notification not marked as sent'));
    // Counts only: the addresses are personal data.
    log.info({ recipients: to.length }, 'notification e-mail sent');
    return 'sent';
  }
}
