import { randomUUID } from 'node:crypto';
import type { Logger } from '@isams-sync/logger';
import { startPeriodic } from '@isams-sync/runtime';
import type { PeriodicTask } from '@isams-sync/runtime';
import { contextFromCarrier, ROOT_CONTEXT, traceCarrierOf, withSpan } from '@isams-sync/telemetry';
import { ConnectorErrors } from '../domain/connector-errors';
import { runStep } from '../domain/run-record';
import type { RunRecord } from '../domain/run-record';
import { nextScheduledRun, scheduleClaimAttempt } from '../domain/schedule';
import { DEFAULT_SCHEDULE_MINUTES } from '../domain/settings-rules';
import { EMPTY_PROGRESS, isTerminal, startRefusal } from '../domain/sync-run';
import type { RunDatasetStats, RunTrigger } from '../domain/sync-run';
import type * as ports from './ports';
import { RunInterrupted, syncPausedRunError, toRunError } from './run-errors';
import { RunExecution, readFetchInputs } from './run-execution';
import { applyRosterReport, rosterReportTaken } from './roster-reports';
import type { RosterReport } from './roster-reports';
import type { FetchInputs } from './run-execution';

export interface SyncEngineOptions {
  owner: string;
  concurrency: number;
  /** A run's lease ttl: a run whose heartbeat is older is checked by the stale-run sweep. */
  leaseTtlMs: number;
  schedulerTickMs: number;
  schedulerEnabled: boolean;
  staleSweepIntervalMs: number;
  scheduleJitterMs: number;
  manualTriggerLimit: number;
  manualTriggerWindowMs: number;
  maxChunkBytes: number;
  progressIntervalMs: number;
  /**
   * The reading this connector gives a document (domain/sync-run `readingOf`): an applied
   * snapshot's document read under another reading is read again in full.
   */
  documentReading: string;
  /** The public IPs iSAMS sees (EGRESS_IPS), named when iSAMS refuses our address. */
  egressIps: readonly string[];
}

/** The engine's ports (use-cases/ports): it imports no adapter and no database driver. */
export interface SyncEngineDeps {
  settings: ports.SettingsStore;
  /** When each school next runs and its failure streak (never written into the settings). */
  schedules: ports.ScheduleStore;
  runs: ports.RunStore;
  snapshots: ports.AppliedSnapshotStore;
  claims: ports.ScheduleClaimStore;
  /** The per-school run leases: renewals, lost-lease signal, fencing tokens. */
  leases: ports.RunLeases;
  fetchPlans: ports.FetchPlanStore;
  /** The stored key, revealed only for the stored address's host. */
  keys: ports.KeyRevealer;
  /** When the data now in SchoolCloud was fetched, per school (moved forward by good runs). */
  freshness: ports.FreshnessStore;
  publisher: ports.RunPublisher;
  /** The school's document, fetched and stream-parsed into a run's spool. */
  source: ports.BatchSource;
  /** The runs' spools on this process's disk. */
  spools: ports.Spools;
  logger: Logger;
  /** Told the duration and outcome of each fetch and publish (the connector's metrics). */
  observe?: RunObserver;
  /** Hook for tests (e.g. kill the process mid-publish); never set in production. */
  onStep?: (
    step: 'run-requested' | 'publishing' | 'chunks-published' | 'marker-attempted',
    run: RunRecord,
  ) => void | Promise<void>;
}

/** What the engine tells about each run's phases (for metrics; no school id is passed on). */
export interface RunObserver {
  /**
   * A fetch ended: the document was fetched and stream-parsed into the spool (`ok`), or not; `known`:
   * it was the last applied document byte for byte (downloaded, not parsed).
   */
  fetched(f: {
    seconds: number;
    ok: boolean;
    known?: boolean;
    datasets?: readonly RunDatasetStats[];
    bytes?: number;
  }): void;
  /** The chunks and the run-complete marker of a run were published. */
  published(p: { seconds: number }): void;
}

export type { RosterReport } from './roster-reports';

const leaseKey = (tenantId: string): string => `run:${tenantId}`;
/** Expired run-lease generations are pruned this long after expiry, at most this often. */
const LEASE_RETENTION_MS = 60 * 60_000;

/**
 * Sync runs end to end: requests (manual and scheduled), the work queue with per-school leases,
 * fetch → spool → publish → marker, stale-run recovery and the roster's reports.
 */
export class SyncEngine {
  private readonly inFlight = new Map<string, { abort: AbortController; done: Promise<void> }>();
  private readonly timers: PeriodicTask[] = [];
  private stopping = false;
  private lastClaimsPrune = 0;
  private lastLeasePrune = 0;
  private pumping: Promise<void> | undefined;
  private pumpAgain = false;
  /** Runs this replica just requested, as it recorded them: the queue starts them without a read. */
  private readonly handedOff = new Map<string, RunRecord>();

  constructor(
    private readonly deps: SyncEngineDeps,
    private readonly opts: SyncEngineOptions,
  ) {}

  /**
   * Rebuilds the work queue and the slots' start marks from `sync_runs`, removes spools left behind
   * by a crash, then starts the timers.
   */
  async start(): Promise<void> {
    await this.restoreQueue();
    await this.removeLeftoverSpools();
    // Each on libs/runtime `startPeriodic`: one run at a time (a tick on a slow database never piles
    // up behind the last), a failure logged and retried, a run that hangs logged as still running.
    const every = (name: string, intervalMs: number, task: () => Promise<unknown>, stuckAfterMs?: number) =>
      this.timers.push(
        startPeriodic(task, {
          name,
          intervalMs,
          logger: this.deps.logger,
          ...(stuckAfterMs === undefined ? {} : { stuckAfterMs }),
        }),
      );
    if (this.opts.schedulerEnabled)
      every('scheduler tick', this.opts.schedulerTickMs, () => this.schedulerTick());
    // The queue keeps going while wakes arrive (a busy replica starts run after run): only ten
    // minutes of it is worth a line.
    every(
      'work queue',
      Math.max(250, Math.min(this.opts.schedulerTickMs, 5_000)),
      () => this.pump(),
      10 * 60_000,
    );
    every('stale-run sweep', this.opts.staleSweepIntervalMs, () => this.sweepStale());
    this.wake();
  }

  /**
   * Removes the spool directories of runs that are not in flight (a process that crashed mid-run
   * leaves its run's files; a replica that takes such a run over fails it and removes its own copy
   * only). A directory of a run still fetching or fetched is kept: another process sharing the
   * directory may be running it, and the stale-run sweep removes it when it fails the run.
   */
  private async removeLeftoverSpools(): Promise<void> {
    const keep = [...(await this.deps.runs.unfinished()).map((r) => r._id), ...this.inFlight.keys()];
    const removed = await this.deps.spools.removeAllExcept(keep);
    if (removed > 0) this.deps.logger.info({ removed }, 'removed spools left behind by earlier runs');
  }

  /** Stops taking work; in-flight runs get until `deadlineMs`, then are interrupted. */
  async stop(deadlineMs: number): Promise<void> {
    this.stopping = true;
    // Not awaited (as before): a tick waiting on an unreachable database must not hold the stop up.
    for (const t of this.timers) void t.stop();
    const all = Promise.all([...this.inFlight.values()].map((r) => r.done));
    const timer = new Promise<void>((resolve) => setTimeout(resolve, deadlineMs).unref());
    await Promise.race([all, timer]);
    for (const r of this.inFlight.values()) r.abort.abort(new RunInterrupted('connector stopping'));
    await all;
  }

  /** Runs being executed by this replica. */
  activeRunIds(): string[] {
    return [...this.inFlight.keys()];
  }

  // ---- requests -------------------------------------------------------------------------------

  /**
   * Requests a run for the school. One run per school at a time: when one is queued or running it
   * is returned instead (`alreadyActive`). Manual requests are rate-limited per school.
   */
  async trigger(
    tenantId: string,
    trigger: RunTrigger,
    dryRun: boolean,
  ): Promise<{ run: RunRecord; alreadyActive: boolean }> {
    // The school's active run and its recent manual requests, read beside its settings the first time.
    const checks = () =>
      Promise.all([
        this.activeRun(tenantId),
        trigger.kind === 'manual'
          ? this.deps.runs.countManualRequestsSince(
              tenantId,
              new Date(Date.now() - this.opts.manualTriggerWindowMs),
            )
          : 0,
      ]);
    const [settings, firstChecks] = await Promise.all([this.deps.settings.get(tenantId), checks()]);
    if (!settings) throw ConnectorErrors.CONNECTOR_SETTINGS_NOT_FOUND();
    if (!settings.enabled) throw ConnectorErrors.CONNECTOR_SYNC_DISABLED();
    for (let attempt = 0; attempt < 3; attempt++) {
      const [active, manualRequests] = attempt === 0 ? firstChecks : await checks();
      if (active) return { run: active, alreadyActive: true };
      if (manualRequests >= this.opts.manualTriggerLimit) {
        throw ConnectorErrors.CONNECTOR_TRIGGER_RATE_LIMITED({
          limit: this.opts.manualTriggerLimit,
          windowMinutes: Math.round(this.opts.manualTriggerWindowMs / 60_000),
        });
      }
      const id = randomUUID();
      const slot = await this.deps.runs.claimSchoolSlot(tenantId, id);
      if (!slot.claimed) continue;
      const now = new Date();
      const run: RunRecord = {
        _id: id,
        tenantId,
        status: 'requested',
        trigger,
        dryRun,
        requestedAt: now,
        progress: { ...EMPTY_PROGRESS },
        datasets: [],
        absent: [],
        unknownContainers: [],
        findings: [],
        sourceFormat: settings.format,
        sequence: 0,
        updatedAt: now,
      };
      const trace = traceCarrierOf();
      if (trace.traceparent !== undefined) run.trace = trace;
      // Queued before inserted: a crash in between leaves a queue entry without a run (dropped by the
      // work queue after a minute), never a requested run that no queue entry points at.
      await this.deps.runs.queueRun({ _id: id, tenantId, requestedAt: now });
      await this.deps.runs.recordRequested(run);
      await this.deps.onStep?.('run-requested', run);
      this.deps.logger.info({ tenantId, syncRunId: id, trigger: trigger.kind, dryRun }, 'sync run requested');
      await this.deps.publisher.publishRunUpdate(run);
      this.handedOff.set(run._id, run);
      this.wake();
      return { run, alreadyActive: false };
    }
    const active = await this.activeRun(tenantId);
    if (active) return { run: active, alreadyActive: true };
    throw ConnectorErrors.CONNECTOR_RUN_FAILED();
  }

  /** The school's queued or running run, clearing a slot whose run already ended or never existed. */
  private async activeRun(tenantId: string): Promise<RunRecord | null> {
    const slot = await this.deps.runs.schoolSlot(tenantId);
    if (!slot) return null;
    const run = await this.deps.runs.get(tenantId, slot.syncRunId);
    if (run && !isTerminal(run.status) && run.status !== 'published' && run.status !== 'applying') return run;
    // A slot without a live run: its run ended (release was lost in a crash) or was never inserted.
    // A run's holder announces its end before it frees the slot, so an ended run still holding its
    // slot may have died in between: its end is announced (again: the same event) first.
    if (run) await this.deps.publisher.publishRunUpdate(run);
    if (run || Date.now() - slot.claimedAt.getTime() > 60_000)
      await this.deps.runs.releaseSchoolSlot(tenantId, slot.syncRunId);
    return null;
  }

  async cancel(tenantId: string, syncRunId: string): Promise<RunRecord> {
    const run = await this.deps.runs.get(tenantId, syncRunId);
    if (!run) throw ConnectorErrors.CONNECTOR_RUN_NOT_FOUND({ syncRunId });
    if (run.status === 'cancelled') return run;
    if (run.status !== 'requested')
      throw ConnectorErrors.CONNECTOR_RUN_NOT_CANCELLABLE({ syncRunId, status: run.status });
    // Decided against a replica starting it by the same step claim: exactly one of the two wins.
    const { won, run: updated } = await this.deps.runs.recordStep(
      run,
      { status: 'cancelled', finishedAt: new Date() },
      { sequence: 1 },
      null,
    );
    if (!won && updated?.status === 'cancelled') return updated;
    if (!won || !updated)
      throw ConnectorErrors.CONNECTOR_RUN_NOT_CANCELLABLE({
        syncRunId,
        status: updated?.status ?? run.status,
      });
    // Announced before the slot is freed (see activeRun: an ended run holding its slot is announced again).
    await this.deps.publisher.publishRunUpdate(updated);
    await this.deps.runs.dequeueRun(tenantId, syncRunId);
    await this.deps.runs.releaseSchoolSlot(tenantId, syncRunId);
    return updated;
  }

  // ---- scheduler --------------------------------------------------------------------------------

  /** Creates the scheduled runs that are due. Replicas race per (school, due time); one wins. */
  async schedulerTick(): Promise<void> {
    const now = new Date();
    for (const s of await this.deps.schedules.due(now, 100)) {
      if (!s.nextRunAt) continue;
      const attempt = scheduleClaimAttempt(s.nextRunAt, now);
      if (!(await this.deps.claims.claim(s.tenantId, s.nextRunAt, attempt))) continue;
      const settings = await this.deps.settings.get(s.tenantId);
      // A time beside settings that are off (an admin's save cut off, or a back-off written as it
      // turned sync off) is moved on without a run, never cleared: clearing could race the admin's
      // next save turning sync on, which writes its time before the settings (domain/schedule).
      const next = nextScheduledRun({
        tenantId: s.tenantId,
        endedAt: now,
        scheduleMinutes: settings?.scheduleMinutes ?? DEFAULT_SCHEDULE_MINUTES,
        jitterMs: this.opts.scheduleJitterMs,
        consecutiveFailures: s.consecutiveFailures,
      });
      await this.deps.schedules.setNext(s.tenantId, next);
      if (!settings?.enabled) continue;
      try {
        // Each school's scheduled run is a trace of its own, rooted here.
        await withSpan(
          'connector.scheduled-run',
          { parent: ROOT_CONTEXT, attributes: { 'isams_sync.tenant_id': s.tenantId } },
          () => this.trigger(s.tenantId, { kind: 'schedule' }, false),
        );
      } catch (err) {
        this.deps.logger.warn({ tenantId: s.tenantId, err }, 'scheduled sync not requested');
      }
    }
    // A prune scans every claim of the last day (FerretDB has no index use): every 10 minutes is plenty.
    if (now.getTime() - this.lastClaimsPrune >= 10 * 60_000) {
      this.lastClaimsPrune = now.getTime();
      await this.deps.claims.prune(new Date(now.getTime() - 24 * 3_600_000));
    }
  }

  // ---- work queue -------------------------------------------------------------------------------

  /** Asks the queue to look for requested runs now (coalesced). */
  wake(): void {
    if (this.stopping) return;
    void this.pump().catch((err: unknown) => this.deps.logger.error({ err }, 'work queue failed'));
  }

  /**
   * Resolves once the work queue has nothing this replica can start and every run it started has
   * ended (what the timers do over time, done now: the unit tests drive the engine with it).
   */
  async drain(): Promise<void> {
    for (;;) {
      await this.pump();
      const running = [...this.inFlight.values()].map((r) => r.done);
      if (running.length === 0) return;
      await Promise.all(running);
    }
  }

  private pump(): Promise<void> {
    if (this.pumping) {
      this.pumpAgain = true;
      return this.pumping;
    }
    this.pumping = (async () => {
      try {
        do {
          this.pumpAgain = false;
          await this.pumpOnce();
        } while (this.pumpAgain && !this.stopping);
      } finally {
        this.pumping = undefined;
      }
    })();
    return this.pumping;
  }

  private async pumpOnce(): Promise<void> {
    // A run requested here a moment ago is started from its record (a cancel or another replica in
    // between is decided by the start's step claim); one that cannot start now stays queued.
    const handedOff = [...this.handedOff.values()];
    this.handedOff.clear();
    for (const run of handedOff) {
      if (this.stopping || this.inFlight.size >= this.opts.concurrency) return;
      if (!this.inFlight.has(run._id)) await this.startRun(run);
    }
    if (this.stopping || this.inFlight.size >= this.opts.concurrency) return;
    const candidates = await this.deps.runs.queuedRuns(this.opts.concurrency * 4);
    for (const queued of candidates) {
      if (this.stopping || this.inFlight.size >= this.opts.concurrency) return;
      if (this.inFlight.has(queued._id)) continue;
      const run = await this.deps.runs.get(queued.tenantId, queued._id);
      if (run?.status !== 'requested') {
        // Started, cancelled or ended (its dequeue was lost), or never inserted because the requester
        // died between queueing and inserting (a young entry's run may still be being inserted).
        if (run || Date.now() - queued.requestedAt.getTime() > 60_000)
          await this.deps.runs.dequeueRun(queued.tenantId, queued._id);
        continue;
      }
      await this.startRun(run);
    }
  }

  /** Starts a requested run under the school's lease, unless another replica or run has the school. */
  private async startRun(run: RunRecord): Promise<void> {
    const inputs = readFetchInputs(this.deps, run.tenantId);
    inputs.catch(() => undefined); // a run that does not start drops them; one that does awaits them
    const lease = await this.deps.leases.acquire(leaseKey(run.tenantId));
    if (!lease) return;
    let started: RunRecord | null = null;
    try {
      // The mark comes first: the stale-run sweep only looks at marked slots, so a crash right after
      // `requested → fetching` must find the slot already marked.
      if (!(await this.markSlot(run.tenantId, run._id))) return;
      // Sync paused since the run was requested: it ends here, before anything is fetched. (A read
      // that failed starts the run, which then fails on it.)
      const settings = await inputs.then(
        (i) => i.settings,
        () => null,
      );
      if (startRefusal(settings) === 'sync-disabled') {
        await this.endPausedRun(run, lease);
        return;
      }
      // The school's fetch order, taken here — holding its slot and lease, right before the fetch —
      // rather than when the run was requested: the slot is held from one run's start to its end
      // (marker sent), so every run numbered before this one has fetched and every later one fetches
      // after; a run requested first may start later (its slot lost while it was being inserted, it
      // claims one again once the other ends). The number is decided with the start, so the run and
      // its marker (re-sent after a crash too) keep it; a number whose start lost is skipped.
      const fetchSequence = await this.deps.runs.nextFetchSequence(run.tenantId);
      // A cancel racing the start is decided by the same step claim: exactly one wins.
      const start = await this.deps.runs.recordStep(
        run,
        {
          status: 'fetching',
          owner: this.opts.owner,
          heartbeatAt: new Date(),
          fetchStartedAt: new Date(),
          fetchSequence,
        },
        { sequence: 1 },
        lease.fence,
      );
      if (start.won && start.run?.status === 'fetching') started = start.run;
    } finally {
      if (started === null) await lease.release();
    }
    if (started === null) return;
    await this.deps.runs
      .dequeueRun(run.tenantId, run._id)
      .catch((err: unknown) => this.deps.logger.warn({ err }, 'started run not dequeued'));
    const abort = new AbortController();
    const done = this.execute(started, abort, lease, inputs).finally(() => {
      this.inFlight.delete(run._id);
      this.wake();
    });
    this.inFlight.set(run._id, { abort, done });
  }

  /**
   * `requested → cancelled` (CONNECTOR_SYNC_DISABLED) under the school's lease, for a run whose school
   * was paused while it waited; decided against an admin's cancel by the same step claim. Announced
   * before its queue entry and slot go: killed in between, the work queue drops the entry and
   * whoever finds the slot left behind announces the end again (the same event) and frees it.
   */
  private async endPausedRun(run: RunRecord, lease: ports.RunLease): Promise<void> {
    const { run: ended } = await this.deps.runs.recordStep(
      run,
      { status: 'cancelled', error: syncPausedRunError(), finishedAt: new Date() },
      { sequence: 1 },
      lease.fence,
    );
    // Another outcome decided first (an admin's cancel, or this decision by a process that died):
    // a cancelled run is announced and freed all the same; any other is its decider's.
    if (ended?.status !== 'cancelled') return;
    this.deps.logger.info(
      { tenantId: run.tenantId, syncRunId: run._id },
      'queued sync run cancelled: sync is paused for the school',
    );
    await this.deps.publisher.publishRunUpdate(ended);
    await this.deps.runs.dequeueRun(run.tenantId, run._id);
    await this.deps.leases.fencedWrite(lease.fence, () =>
      this.deps.runs.releaseSchoolSlot(run.tenantId, run._id),
    );
  }

  /**
   * Marks the run's slot as started, claiming the slot first when it is free (a slot cleared while its
   * run was still being inserted). False when another run holds the school's slot: the run waits.
   */
  private async markSlot(tenantId: string, syncRunId: string): Promise<boolean> {
    if (await this.deps.runs.markSlotStarted(tenantId, syncRunId)) return true;
    const slot = await this.deps.runs.claimSchoolSlot(tenantId, syncRunId);
    return slot.claimed && this.deps.runs.markSlotStarted(tenantId, syncRunId);
  }

  /**
   * Runs a started run under its lease. The keeper renews the lease; once it is lost (taken over, or
   * not renewed in time) the run is aborted, and every write of the run carries the lease's fence, so
   * a replica that stalled past its lease cannot change a run another replica took over.
   */
  private execute(
    initial: RunRecord,
    abort: AbortController,
    lease: ports.RunLease,
    inputs: Promise<FetchInputs>,
  ): Promise<void> {
    // The run's span continues the trace of its request (stored with the run), whichever replica
    // and however much later the work queue starts it.
    return withSpan(
      'connector.sync-run',
      {
        parent: contextFromCarrier(initial.trace),
        attributes: {
          'isams_sync.tenant_id': initial.tenantId,
          'isams_sync.sync_run_id': initial._id,
          'isams_sync.trigger': initial.trigger.kind,
          'isams_sync.dry_run': initial.dryRun,
        },
      },
      () => new RunExecution(this.deps, this.opts, initial, abort, lease, inputs).execute(),
    );
  }

  // ---- recovery ---------------------------------------------------------------------------------

  /**
   * Start-up: the one scan of `sync_runs`. Requested runs are (re)queued — runs from before the
   * queue existed, or whose queue entry was lost — and in-flight runs get their slot marked
   * so the stale-run sweep watches them.
   */
  private async restoreQueue(): Promise<void> {
    for (const run of await this.deps.runs.unfinished()) {
      if (run.status === 'requested') {
        await this.deps.runs.queueRun({ _id: run._id, tenantId: run.tenantId, requestedAt: run.requestedAt });
      } else if (!(await this.markSlot(run.tenantId, run._id))) {
        this.deps.logger.warn(
          { tenantId: run.tenantId, syncRunId: run._id, status: run.status },
          'in-flight run whose school slot another run holds; not watched for staleness',
        );
      }
    }
  }

  /**
   * Runs whose replica stopped heartbeating: once their lease can be taken over (the owner is
   * really gone), a run whose marker was already being sent is completed by re-sending the same
   * marker (same event id); any other is failed with CONNECTOR_RUN_INTERRUPTED. Half-published
   * chunks without a marker are never applied by the roster. Only the runs of started slots are read
   * (by `_id`); `sync_runs` is never scanned here.
   */
  async sweepStale(): Promise<number> {
    const before = new Date(Date.now() - this.opts.leaseTtlMs);
    let recovered = 0;
    const slots = await this.deps.runs.schoolSlots();
    const queued = new Set((await this.deps.runs.queuedRuns()).map((q) => q._id));
    for (const slot of slots) {
      if (this.inFlight.has(slot.syncRunId)) continue;
      // Not started: waiting in the queue, or too young to be a leftover.
      if (!slot.startedAt && (queued.has(slot.syncRunId) || slot.claimedAt >= before)) continue;
      const run = await this.deps.runs.get(slot.tenantId, slot.syncRunId);
      if (run?.status === 'fetching' || run?.status === 'fetched') {
        if (run.heartbeatAt && run.heartbeatAt < before && (await this.recoverStale(run))) recovered += 1;
        continue;
      }
      if (run?.status === 'requested') {
        // Its queue entry was lost (or dropped before the run was inserted): queue it again.
        if (!queued.has(run._id))
          await this.deps.runs.queueRun({
            _id: run._id,
            tenantId: run.tenantId,
            requestedAt: run.requestedAt,
          });
        continue;
      }
      // Ended, or never inserted. An ended run's spool (on this process's disk, if it was here) is
      // wanted no more: a holder killed between deciding the run's end and applying it left it, and
      // the start-up after the crash kept it, as the run still read as in flight then.
      if (run) await this.removeSpool(run._id);
      // Slots left behind by a crash between claiming and inserting, or after a run ended.
      if (slot.claimedAt < before) await this.activeRun(slot.tenantId);
    }
    if (recovered > 0) this.wake();
    // Acquiring already drops older lease generations; this catches what that best-effort delete missed.
    if (Date.now() - this.lastLeasePrune >= LEASE_RETENTION_MS) {
      this.lastLeasePrune = Date.now();
      await this.deps.leases.prune(new Date(Date.now() - LEASE_RETENTION_MS));
    }
    return recovered;
  }

  private async recoverStale(stale: RunRecord): Promise<boolean> {
    const lease = await this.deps.leases.acquire(leaseKey(stale.tenantId));
    if (!lease) return false;
    try {
      // Each pass decides one step; a step an earlier holder already decided is adopted and the
      // run looked at again (e.g. its marker attempt: then the marker is re-sent, not the run failed).
      for (let pass = 0; pass < 3; pass++) {
        const run = await this.deps.runs.get(stale.tenantId, stale._id);
        if (!run || !(run.status === 'fetching' || run.status === 'fetched')) return false;
        const log = this.deps.logger.child({ tenantId: run.tenantId, syncRunId: run._id });
        if (runStep(run) === 'marker-attempted') {
          await lease.fence.check();
          await this.deps.publisher.publishMarker(run);
          const done = await this.deps.runs.recordStep(
            run,
            { status: 'published', publishedAt: new Date() },
            { sequence: 1 },
            lease.fence,
          );
          if (!done.won) continue;
          // The roster may have reported the run already (it had the first marker): kept, and
          // taken by this step.
          if (done.run?.rosterSequence !== undefined) await rosterReportTaken(this.deps, done.run);
          if (done.run) await this.deps.publisher.publishRunUpdate(done.run);
          log.warn('interrupted run resumed: run-complete marker re-sent');
        } else {
          const error = toRunError(new RunInterrupted('owner stopped'));
          const failed = await this.deps.runs.recordStep(
            run,
            { status: 'failed', error, finishedAt: new Date() },
            { sequence: 1 },
            lease.fence,
          );
          if (!failed.won) continue;
          if (failed.run) await this.deps.publisher.publishRunUpdate(failed.run);
          log.warn({ previousOwner: run.owner }, 'interrupted run failed');
        }
        await this.removeSpool(run._id);
        await this.deps.leases.fencedWrite(lease.fence, () =>
          this.deps.runs.releaseSchoolSlot(run.tenantId, run._id),
        );
        return true;
      }
      return false;
    } finally {
      await lease.release();
    }
  }

  /** Removes a run's spool from this process's disk (nothing when it has none); a failure is only a leftover. */
  private async removeSpool(syncRunId: string): Promise<void> {
    await this.deps.spools
      .forRun(syncRunId)
      .remove()
      .catch(() => undefined);
  }

  // ---- roster reports ---------------------------------------------------------------------------

  /**
   * Applies a roster report (applying/applied/held/failed): use-cases/roster-reports. Resolves to
   * true when the report changed the run (false: unknown run, an old or repeated report, or one kept
   * until the run says `published`, whose step then applies it).
   */
  applyRosterReport(report: RosterReport): Promise<boolean> {
    // Handled again while the stale-run sweep may still record the run's `published` step.
    const patienceMs = 2 * this.opts.leaseTtlMs + this.opts.staleSweepIntervalMs;
    return applyRosterReport(this.deps, report, patienceMs);
  }
}
