import type { Logger } from '@isams-sync/logger';
import { contextFromCarrier, withSpan } from '@isams-sync/telemetry';
import { isAppError } from '@isams-sync/errors';
import type { RosterEntityType } from '@isams-sync/events';
import { DATASET_IDS } from '@isams-sync/isams';
import type { DatasetId, RawElement } from '@isams-sync/isams';
import type {
  ChangesetOrder,
  ChangesetStore,
  HeldLease,
  RosterPublisher,
  SyncApplying,
  TenantLeasing,
  WriteFence,
} from './ports';
import {
  CHANGE_CHUNK_SIZE,
  entityDocOf,
  ids,
  imageHash,
  manifestEntryOf,
  markerStaged,
  toRecord,
} from './records';
import type {
  ChangesetDoc,
  EntityDoc,
  EntityRecord,
  GraceDoc,
  HeldBatchDoc,
  Manifest,
  RunState,
  StoredChange,
  StoredMarker,
} from './records';
import { countChanges } from '../domain/change-counts';
import type { ChangeCounts } from '../domain/change-counts';
import { diff } from '../domain/diff';
import type { StoredByType, StoredEntity } from '../domain/diff';
import { guard } from '../domain/guard';
import type { HoldKind, HoldReason, RemovalThresholds } from '../domain/guard';
import { releaseHeld } from '../domain/held-release';
import { DiscardMemory, entityKey, itemsFingerprint, mergeBatchItems } from '../domain/held-batch';
import type { DiscardedChange, EntityKey } from '../domain/held-batch';
import type { PlannedChange } from '../domain/diff';
import { compareFetchOrder, ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import { planRunUndo } from '../domain/run-undo';
import type { CurrentEntity, UndoSkipReason } from '../domain/run-undo';
import { normalise } from '../domain/normalise';
import type { NormalisedSnapshot } from '../domain/normalise';
import { RosterErrors } from '../domain/roster-errors';
import type { FetchOrder } from '../domain/roster-errors';
import type { RosterEntity, RosterFinding } from '../domain/roster-model';
import { PERSON_TYPES } from '../domain/roster-model';
import { checkSchoolIdentity } from '../domain/school-identity';
import type { ImageMemory, StagedChunkMemory } from './process-memory';
import {
  REPORT_SEQUENCE,
  changeEvent,
  changeIdOf,
  directoryChangeEvent,
  directoryStateEvent,
  runUpdateEvent,
  stateEvent,
} from './roster-events';
import { reportHeldBatchDecision } from './held-batches';

const defined = <T>(list: readonly (T | undefined)[]): T[] => list.filter((x): x is T => x !== undefined);

const DAY_MS = 86_400_000;
/** What an admin action keeps of its caller's deadline to answer in. */
const ANSWER_MARGIN_MS = 1_000;

/** A step of the changeset state machine; `beforeStep` (tests) can fail there to simulate a crash. */
export type ProcessingStep =
  | 'stage'
  | 'diff'
  /** Inside `diff`: the held batch's new items are written, its document not yet updated. */
  | 'held-batch'
  /** Inside `diff`: the held batch is updated, the step's outcome not yet recorded. */
  | 'record-plan'
  | 'report-applying'
  | 'apply'
  | 'publish'
  | 'publish-batch'
  | 'report-outcome';

export interface ProcessorDeps {
  store: ChangesetStore;
  publisher: RosterPublisher;
  logger: Logger;
  graceDays: number;
  defaultThresholds: RemovalThresholds;
  incompleteRunTimeoutMs: number;
  /** Cross-replica exclusion per school. */
  leases: TenantLeasing;
  /** How long admin actions wait for a school another replica holds before `ROSTER_TENANT_BUSY`. */
  leaseWaitMs: number;
  /** Called when background work skips a school another replica holds (metrics). */
  onTenantBusy?: (mode: 'skip' | 'wait') => void;
  /** Tracks work started by {@link ChangesetProcessor.advanceInBackground} (the app drains it on stop). */
  background?: (work: Promise<void>) => void;
  now?: () => Date;
  /**
   * Test hook: throw to simulate a crash right before `step` (the persisted state is whatever came
   * before); return a promise to pause the holder there.
   */
  beforeStep?: (step: ProcessingStep, changesetId: string) => void | Promise<void>;
  /** What this process keeps in hand between a run's steps (none: everything is read from the store). */
  memory?: RosterMemory;
}

/** See process-memory.ts: the staged chunks and the entity images this process has just had. */
export interface RosterMemory {
  chunks: StagedChunkMemory;
  images: ImageMemory;
}

/** What a preview (dry run) of a snapshot yields. */
export interface SnapshotPlan {
  changes: StoredChange[];
  findings: RosterFinding[];
  counts: Partial<Record<RosterEntityType, ChangeCounts>>;
  heldTypes: Partial<Record<RosterEntityType, HoldReason>>;
  heldCount: number;
  /** Set when something is held: a batch of removals, or the whole run (another school's document). */
  hold?: { kind: HoldKind; reason: string };
  /** Changes an earlier discard still covers (disposition `discarded`). */
  discardedCount?: number;
  /** What the held-batch update of a real run needs (not part of a preview's answer). */
  batchContext?: {
    pending: HeldBatchDoc | null;
    pendingItems: StoredChange[];
    /** Types this run could judge removals of (dataset present, every record identified). */
    judgedTypes: ReadonlySet<RosterEntityType>;
    /** The entities this run sent of the present types it could not judge (`mergeBatchItems`). */
    sentUnjudged: ReadonlySet<EntityKey>;
    /** The stored discard entries, and those this run's changes matched. */
    discards: DiscardedChange[];
    covered: DiscardedChange[];
  };
  /** Kind `undo`: what of the run's removals could not be restored, and why. */
  undoSkipped?: Partial<Record<UndoSkipReason, number>>;
}

/**
 * Runs changesets through their persisted, resumable states:
 * waiting → staged → diffed → applying → publishing → reporting → done (or failed).
 * Every step is idempotent and every id deterministic, so a crash anywhere followed by `advance`
 * ends in the same state with the same events (a duplicate is possible, a gap is not).
 * One tenant's work is processed one task at a time: an in-process queue, then the tenant's
 * lease across replicas (`TenantLeasing`). Background work skips a school another replica holds;
 * admin actions wait for it for a bounded time.
 * Every write under the lease carries its fence (refused once another replica holds a newer
 * generation), and each step's outcome is decided once by a step claim (`store.decideStep`), so a
 * holder that stalled past its lease can neither redo nor overwrite what its successor decided.
 */
export class ChangesetProcessor {
  private readonly locks = new Map<string, Promise<unknown>>();
  private readonly now: () => Date;

  constructor(private readonly deps: ProcessorDeps) {
    this.now = deps.now ?? (() => new Date());
  }

  /**
   * Background work (Kafka handler, sweeper): runs `fn` holding the tenant, or skips it and resolves
   * `false` when another replica holds the tenant's lease — that replica, or the next sweep, does it.
   */
  async tryWithTenant(tenantId: string, fn: (lease: HeldLease) => Promise<void>): Promise<boolean> {
    const result = await this.serialised(tenantId, () =>
      this.deps.leases.run(tenantId, 0, (lease) => this.afterMigration(tenantId, lease, fn)),
    );
    if (!result.ran) {
      this.deps.onTenantBusy?.('skip');
      this.deps.logger.debug(
        { tenantId },
        'school held by another replica; skipped (it or the next sweep does it)',
      );
    }
    return result.ran;
  }

  /**
   * Admin actions: runs `fn` holding the tenant, waiting up to `leaseWaitMs` while another replica
   * holds it — but never past the caller's `deadline` (less a second to answer in): a caller that
   * gave up must not have its decision recorded behind its back — then throws `ROSTER_TENANT_BUSY`
   * (UNAVAILABLE: the caller retries).
   */
  async withTenant<T>(tenantId: string, fn: (lease: HeldLease) => Promise<T>, deadline?: Date): Promise<T> {
    const waitMs = Math.min(
      this.deps.leaseWaitMs,
      deadline === undefined ? Infinity : Math.max(0, deadline.getTime() - Date.now() - ANSWER_MARGIN_MS),
    );
    const run = (lease: HeldLease): Promise<T> => this.afterMigration(tenantId, lease, fn);
    const result = await this.serialised(tenantId, async () => {
      const first = await this.deps.leases.run(tenantId, 0, run);
      if (first.ran) return first;
      this.deps.onTenantBusy?.('wait');
      return this.deps.leases.run(tenantId, waitMs, run);
    });
    if (!result.ran) throw RosterErrors.ROSTER_TENANT_BUSY({ waitedMs: waitMs });
    return result.value;
  }

  /**
   * Converts the stored rosters still kept in the legacy `entityBuckets` (before #17) into entity
   * documents and manifests, each school under its lease (`ChangesetStore.migrateTenantBuckets`:
   * idempotent, buckets deleted last, so a crash anywhere is redone on the next start). A school
   * another replica holds now is migrated by the first work this process does on it. Returns how many
   * entities were converted. Called on start, before any other work.
   */
  async migrateLegacyRoster(): Promise<number> {
    const tenants = await this.deps.store.legacyBucketTenants();
    for (const t of tenants) this.legacy.add(t);
    const before = this.migratedEntities;
    for (const t of tenants) await this.tryWithTenant(t, async () => {});
    const migrated = this.migratedEntities - before;
    if (tenants.length > 0)
      this.deps.logger.info(
        { schools: tenants.length, entities: migrated },
        'legacy entity buckets migrated',
      );
    return migrated;
  }

  private readonly legacy = new Set<string>();
  private migratedEntities = 0;

  /** Runs `fn` holding the tenant, after migrating its legacy buckets if it still has any. */
  private async afterMigration<T>(
    tenantId: string,
    lease: HeldLease,
    fn: (lease: HeldLease) => Promise<T>,
  ): Promise<T> {
    if (this.legacy.has(tenantId)) {
      this.migratedEntities += await this.deps.store.migrateTenantBuckets(tenantId, lease.fence);
      this.legacy.delete(tenantId);
    }
    return fn(lease);
  }

  /** Runs `fn` after every earlier task of the tenant in this process finished. */
  private serialised<T>(tenantId: string, fn: () => Promise<T>): Promise<T> {
    const prior = this.locks.get(tenantId) ?? Promise.resolve();
    const next = prior.then(fn, fn);
    const settled = next.then(
      () => undefined,
      () => undefined,
    );
    this.locks.set(tenantId, settled);
    void settled.then(() => {
      if (this.locks.get(tenantId) === settled) this.locks.delete(tenantId);
    });
    return next;
  }

  /** Registers a run-complete marker (idempotent); `advance` then processes the run once all chunks are staged. */
  async registerMarker(
    tenantId: string,
    syncRunId: string,
    marker: StoredMarker & { findings?: RosterFinding[] },
  ): Promise<void> {
    const { findings: connectorFindings, ...rest } = marker;
    await this.deps.store.createChangeset({
      _id: ids.changeset(tenantId, syncRunId),
      tenantId,
      syncRunId,
      kind: 'sync',
      state: 'waiting',
      dryRun: marker.dryRun,
      marker: {
        ...rest,
        ...(connectorFindings && connectorFindings.length > 0 ? { connectorFindings } : {}),
      } as StoredMarker,
      receivedAt: this.now(),
    });
  }

  /** After a chunk was staged: a run already waiting for it may now be complete. */
  async onChunkStaged(tenantId: string, syncRunId: string): Promise<void> {
    const cs = await this.deps.store.getChangeset(tenantId, ids.changeset(tenantId, syncRunId));
    if (cs?.state === 'waiting' && (await this.isComplete(cs))) await this.advance(tenantId, cs._id);
  }

  /**
   * Resumes every unfinished changeset (on start with `rebuild`, and at every sweep), one lease per
   * school; schools another replica holds are skipped. Returns how many changesets were worked on.
   */
  async resumeAll(opts: { rebuild?: boolean } = {}): Promise<number> {
    const byTenant = new Map<string, ChangesetDoc[]>();
    for (const cs of await this.deps.store.unfinishedChangesets(opts)) {
      // Still waiting for chunks: nothing to do, and not worth a lease.
      if (cs.state === 'waiting' && !(await this.isComplete(cs))) continue;
      byTenant.set(cs.tenantId, [...(byTenant.get(cs.tenantId) ?? []), cs]);
    }
    let resumed = 0;
    for (const [tenantId, list] of byTenant) {
      const ran = await this.tryWithTenant(tenantId, async (lease) => {
        for (const cs of list) await this.advanceLocked(tenantId, cs._id, lease);
      });
      if (ran) resumed += list.length;
    }
    return resumed;
  }

  /** Fails runs whose marker arrived but whose chunks did not all arrive within the timeout. */
  async failIncompleteRuns(at: Date = this.now()): Promise<number> {
    let failed = 0;
    const cutoff = at.getTime() - this.deps.incompleteRunTimeoutMs;
    for (const cs of await this.deps.store.unfinishedChangesets()) {
      if (cs.state !== 'waiting' || cs.receivedAt.getTime() > cutoff) continue;
      if (await this.isComplete(cs)) continue;
      await this.tryWithTenant(cs.tenantId, async (lease) => {
        const fresh = await this.deps.store.getChangeset(cs.tenantId, cs._id);
        if (fresh?.state !== 'waiting') return;
        if (await this.isComplete(fresh)) return;
        const err = RosterErrors.ROSTER_RUN_TIMED_OUT({ syncRunId: cs.syncRunId });
        await this.fail(fresh, { code: err.code, message: err.message, transient: true }, lease);
        failed += 1;
        await this.advanceLocked(cs.tenantId, cs._id, lease);
      });
    }
    return failed;
  }

  /**
   * Moves a changeset as far as it can go, unless another replica holds the school (then it or the
   * next sweep does). Transient errors propagate (the caller retries); data errors fail the run.
   */
  async advance(tenantId: string, changesetId: string): Promise<void> {
    await this.tryWithTenant(tenantId, (lease) => this.advanceLocked(tenantId, changesetId, lease));
  }

  /**
   * For admin decisions (approve, undo), which record themselves under the lease and answer at once:
   * works the changeset through after the answer (a school's apply can outlast any request deadline).
   * `deps.background` tracks the work so a stop drains it; a crash or a transient failure leaves the
   * changeset to the next sweep or restart, and a retried decision resumes it.
   */
  advanceInBackground(tenantId: string, changesetId: string): void {
    const work = this.advance(tenantId, changesetId);
    if (this.deps.background) this.deps.background(work);
    else
      void work.catch((err: unknown) =>
        this.deps.logger.warn({ err, tenantId }, 'changeset processing failed; it resumes at the next sweep'),
      );
  }

  /** {@link advance} for a caller that holds the tenant; stops at a step boundary if the lease was lost. */
  async advanceLocked(tenantId: string, changesetId: string, lease: HeldLease): Promise<void> {
    const { store } = this.deps;
    for (;;) {
      lease.assertHeld();
      const loaded = await store.loadChangeset(tenantId, changesetId);
      if (loaded === null) return;
      const cs = loaded.doc;
      // A holder stopped between deciding a step and recording it: record the decided outcome.
      if (loaded.behind !== null)
        await store.updateChangeset(tenantId, changesetId, loaded.behind, lease.fence);
      if (cs.state === 'done' || cs.state === 'failed') {
        if (loaded.behind !== null) await store.closeChangeset(tenantId, changesetId, lease.fence);
        return;
      }
      const log = this.deps.logger.child({ tenantId, syncRunId: cs.syncRunId, changesetKind: cs.kind });
      try {
        const started = performance.now();
        // One span per step, a child of the changeset's creation (the run's trace for a sync).
        const next = await withSpan(
          `roster.changeset ${cs.state}`,
          {
            parent: contextFromCarrier(cs.trace),
            attributes: {
              'isams_sync.tenant_id': tenantId,
              'isams_sync.sync_run_id': cs.syncRunId,
              'isams_sync.changeset_kind': cs.kind,
              'isams_sync.changeset_state': cs.state,
            },
          },
          () => this.step(cs, lease),
        );
        if (next === undefined) return;
        log.debug(
          { from: cs.state, to: next, ms: Math.round(performance.now() - started) },
          'changeset advanced',
        );
      } catch (err) {
        if (isAppError(err) && err.kind === 'invalid_argument') {
          log.warn({ err }, 'changeset failed');
          await this.fail(cs, { code: err.code, message: err.message, transient: false }, lease);
          continue;
        }
        throw err;
      }
    }
  }

  /** Decides the failure of the changeset's current step (reported by the next `reporting` step). */
  private async fail(
    cs: ChangesetDoc,
    error: NonNullable<ChangesetDoc['error']>,
    lease: HeldLease,
  ): Promise<void> {
    await this.transition(
      cs,
      { state: 'reporting', outcome: 'failed', error, completedAt: this.now() },
      lease,
    );
  }

  /**
   * Leaves the changeset's current state: the step's outcome is decided by a step claim under the
   * lease's fence (a stale holder is refused), then recorded on the changeset. When an earlier holder
   * already decided this step (and stopped before recording it), its outcome is the one recorded.
   */
  private async transition(
    cs: ChangesetDoc,
    patch: Partial<ChangesetDoc> & { state: RunState },
    lease: HeldLease,
  ): Promise<RunState> {
    const { store } = this.deps;
    const decided = await store.decideStep(cs, patch, lease.fence);
    if (!decided.won)
      this.deps.logger.info(
        { tenantId: cs.tenantId, syncRunId: cs.syncRunId, from: cs.state, to: decided.patch.state },
        'changeset step already decided by an earlier holder; its outcome is kept',
      );
    await store.updateChangeset(cs.tenantId, cs._id, decided.patch, lease.fence);
    return decided.patch.state!;
  }

  /**
   * Whether another changeset of the school is applying or publishing (it started applying and has
   * not reached its report): `cs` then waits, and the sweep resumes it after that one — planned
   * against a roster one of them is half-way through writing, a plan could undo the other's changes.
   */
  private async anotherApplying(cs: ChangesetDoc, order: ChangesetOrder): Promise<boolean> {
    if (order.applying === undefined || order.applying === cs._id) return false;
    const other = await this.deps.store.getChangeset(cs.tenantId, order.applying);
    return other?.state === 'applying' || other?.state === 'publishing';
  }

  /** Fails a sync run a newer one was applied before (ROSTER_RUN_SUPERSEDED; reported as failed). */
  private async supersede(cs: ChangesetDoc, order: FetchOrder, lease: HeldLease): Promise<RunState> {
    const err = RosterErrors.ROSTER_RUN_SUPERSEDED({ syncRunId: cs.syncRunId, ...order });
    this.deps.logger.warn(
      { tenantId: cs.tenantId, syncRunId: cs.syncRunId, ...order },
      'run not applied: a newer run of the school was applied first',
    );
    await this.fail(cs, { code: err.code, message: err.message, transient: false }, lease);
    return 'reporting';
  }

  private async hook(step: ProcessingStep, cs: ChangesetDoc): Promise<void> {
    await this.deps.beforeStep?.(step, cs._id);
  }

  private async isComplete(cs: ChangesetDoc): Promise<boolean> {
    return markerStaged(cs.marker!, await this.deps.store.stagedChunks(cs.tenantId, cs.syncRunId));
  }

  /** Performs the work of the changeset's current state and persists the next one; undefined = wait. */
  private async step(cs: ChangesetDoc, lease: HeldLease): Promise<RunState | undefined> {
    const { store, publisher } = this.deps;
    const { fence } = lease;
    const set = (patch: Partial<ChangesetDoc> & { state: RunState }): Promise<RunState> =>
      this.transition(cs, patch, lease);
    switch (cs.state) {
      case 'waiting': {
        if (!(await this.isComplete(cs))) return undefined;
        await this.hook('stage', cs);
        return set({ state: 'staged', processedAt: this.now() });
      }
      case 'staged': {
        if (!cs.dryRun) {
          // One changeset of a school applies at a time, each planned against what the one before it
          // applied; and a sync run older than one already applied is not applied at all.
          const order = await store.changesetOrder(cs.tenantId);
          if (await this.anotherApplying(cs, order)) return undefined;
          const superseded = supersededBy(cs, order);
          if (superseded !== undefined) return this.supersede(cs, superseded, lease);
        }
        await this.hook('diff', cs);
        const plan =
          cs.kind === 'approval'
            ? await this.planApproval(cs)
            : cs.kind === 'undo'
              ? await this.planUndo(cs.tenantId, cs.syncRunId, cs.processedAt!, cs.undoneBy)
              : await this.planSnapshot(cs.tenantId, cs, { remember: !cs.dryRun });
        await this.persistPlan(cs, plan, lease);
        const heldBatchId =
          cs.kind === 'sync' && !cs.dryRun ? await this.updateHeldBatch(cs, plan, lease) : undefined;
        await this.hook('record-plan', cs);
        return set({
          state: 'diffed',
          changeCount: plan.changes.length,
          applyCount: plan.changes.length - plan.heldCount - (plan.discardedCount ?? 0),
          heldCount: plan.heldCount,
          ...(plan.discardedCount ? { discardedCount: plan.discardedCount } : {}),
          chunkCount: Math.ceil(plan.changes.length / CHANGE_CHUNK_SIZE),
          findingCount: plan.findings.length,
          counts: plan.counts,
          heldTypes: plan.heldTypes,
          ...(heldBatchId === undefined ? {} : { heldBatchId }),
          ...(plan.hold === undefined ? {} : { holdKind: plan.hold.kind, holdReason: plan.hold.reason }),
          ...(plan.undoSkipped === undefined ? {} : { undoSkipped: plan.undoSkipped }),
        });
      }
      case 'diffed': {
        if (cs.dryRun)
          return set({
            state: 'reporting',
            outcome: (cs.heldCount ?? 0) > 0 ? 'held' : 'applied',
            completedAt: cs.processedAt!,
          });
        if (cs.kind === 'sync') {
          await this.hook('report-applying', cs);
          await fence.check();
          await publisher.publishRunUpdate(
            runUpdateEvent(cs.tenantId, cs, 'applying', REPORT_SEQUENCE.applying, cs.processedAt!),
          );
        }
        // A newer sync run may have been applied since this one was planned (a crash or an outage
        // between the two steps): then this one's older document is not applied either.
        const superseded = supersededBy(cs, await store.changesetOrder(cs.tenantId));
        if (superseded !== undefined) return this.supersede(cs, superseded, lease);
        // Taken under the lease as the changeset starts applying: the school's changesets apply one at
        // a time, so (number, seq) orders every change of an entity (the events' `revision`).
        const number = await store.nextChangesetNumber(cs.tenantId, fence, {
          changesetId: cs._id,
          ...(cs.kind === 'sync' ? syncFetchOf(cs.marker!) : {}),
        });
        return set({ state: 'applying', number });
      }
      case 'applying': {
        await this.hook('apply', cs);
        // Each chunk's events go out while the next chunk is written (apply), so the step ends with
        // every chunk published; `publishing` then only finishes what a crash left.
        await this.apply(cs, lease);
        return set({ state: 'publishing', publishedChunks: cs.chunkCount ?? 0 });
      }
      case 'publishing': {
        await this.hook('publish', cs);
        const count = cs.chunkCount ?? 0;
        // The next chunk is read while this one is published (a read only: the cursor still moves
        // only after each acknowledged chunk). A failed read surfaces when its chunk's turn comes.
        const read = (n: number): Promise<StoredChange[]> => {
          const pending = this.chunk(cs, n);
          pending.catch(() => undefined);
          return pending;
        };
        let next = (cs.publishedChunks ?? 0) < count ? read(cs.publishedChunks ?? 0) : undefined;
        for (let chunkNo = cs.publishedChunks ?? 0; chunkNo < count; chunkNo += 1) {
          const changes = await next!;
          next = chunkNo + 1 < count ? read(chunkNo + 1) : undefined;
          await this.publishChunk(cs, chunkNo, changes, fence);
        }
        const outcome = cs.kind === 'sync' && (cs.heldCount ?? 0) > 0 ? 'held' : 'applied';
        return set({ state: 'reporting', outcome, completedAt: this.now() });
      }
      case 'reporting': {
        await this.hook('report-outcome', cs);
        const sequence = cs.kind === 'approval' ? REPORT_SEQUENCE.decision : REPORT_SEQUENCE.outcome;
        await fence.check();
        // An undo leaves the run's own report as it was: the undo is the roster's record, not a run state.
        if (cs.kind !== 'undo')
          await publisher.publishRunUpdate(
            runUpdateEvent(cs.tenantId, cs, cs.outcome ?? 'failed', sequence, cs.completedAt ?? this.now()),
          );
        if (cs.kind === 'sync' && !cs.dryRun) await store.dropChunks(cs.tenantId, cs.syncRunId, fence);
        this.deps.memory?.chunks.forgetRun(cs.tenantId, cs.syncRunId);
        const done = await set({ state: 'done' });
        await store.closeChangeset(cs.tenantId, cs._id, fence);
        return done;
      }
      default:
        return undefined;
    }
  }

  private async chunk(cs: ChangesetDoc, chunkNo: number): Promise<StoredChange[]> {
    return (await this.deps.store.changeChunk(cs.tenantId, cs._id, chunkNo))?.changes ?? [];
  }

  private record(cs: ChangesetDoc, c: StoredChange): EntityRecord {
    const removed = c.change === 'removed';
    const at = cs.processedAt!.toISOString();
    return {
      entityType: c.entityType,
      entityId: c.entityId,
      status: removed ? 'removed' : 'active',
      data: (removed ? c.before : c.after)!,
      lastChangeId: changeIdOf(cs, c.seq),
      ...(cs.number === undefined ? {} : { revision: { changeset: cs.number, change: c.seq } }),
      lastSyncRunId: cs.syncRunId,
      changedAt: at,
      removedAt: removed ? at : null,
      graceUntil: removed ? c.removal!.graceUntil : null,
      removal: removed ? c.removal! : null,
      purged: false,
      purgedAt: null,
    };
  }

  /**
   * Publishes one change chunk's `apply` changes and moves the cursor past it. State records first,
   * then the change events: a change event is only ever sent after its state record was acknowledged,
   * which makes the subscriber handover gap-free (docs/events.md › Bootstrap and follow: changes' end
   * offsets are taken before the state topic's). Called only once the chunk's entity documents are
   * written, and after the fence was checked (by that write, the previous cursor write or the step's
   * claim).
   */
  private async publishChunk(
    cs: ChangesetDoc,
    chunkNo: number,
    chunk: readonly StoredChange[],
    fence: WriteFence,
  ): Promise<void> {
    const { store, publisher } = this.deps;
    await this.hook('publish-batch', cs);
    const changes = chunk.filter((c) => c.disposition === 'apply');
    await publisher.publishState(
      changes.map((c) => stateEvent(cs.tenantId, cs, c)),
      defined(changes.map((c) => directoryStateEvent(cs.tenantId, cs, c))),
    );
    await publisher.publishChanges(
      changes.map((c) => changeEvent(cs.tenantId, cs, c)),
      defined(changes.map((c) => directoryChangeEvent(cs.tenantId, cs, c))),
    );
    await store.updateChangeset(cs.tenantId, cs._id, { publishedChunks: chunkNo + 1 }, fence);
  }

  /**
   * Applies the changeset's `apply` changes to the stored roster, chunk by chunk: each changed
   * entity's document is written (inserted when the change adds it, else replaced), and once a
   * chunk's documents are written its events are published while the next chunk is written (one
   * chunk publishing at a time, from the cursor `publishedChunks` on); then the manifest chunks the
   * changes fall in are rewritten and removed people enter the grace queue (restored ones leave it).
   * Idempotent: a rerun writes the same documents and entries and publishes from the cursor (entity
   * documents first, so a crash in between leaves images ahead of the manifest, which the rerun
   * catches up; every published chunk's documents were written before it). Resolves once every
   * chunk is published.
   */
  private async apply(cs: ChangesetDoc, lease: HeldLease): Promise<void> {
    const { store } = this.deps;
    const { fence } = lease;
    const count = cs.chunkCount ?? 0;
    const written = new Map<string, EntityDoc>();
    const graceIn: GraceDoc[] = [];
    const graceOut: string[] = [];
    let inserted = 0;
    let entitiesMs = 0;
    let publishing: Promise<void> = Promise.resolve();
    // Read while the entities are written (nothing else writes the manifest while the lease is
    // held), and only when there is something to write.
    const manifest = count > 0 ? store.loadManifest(cs.tenantId) : undefined;
    manifest?.catch(() => undefined);
    for (let chunkNo = 0; chunkNo < count; chunkNo += 1) {
      const chunk = await this.chunk(cs, chunkNo);
      const docs = new Map<string, EntityDoc>();
      const added = new Set<string>();
      for (const c of chunk) {
        if (c.disposition !== 'apply') continue;
        const entityKey = ids.entity(cs.tenantId, c.entityType, c.entityId);
        docs.set(entityKey, entityDocOf(cs.tenantId, this.record(cs, c)));
        if (c.change === 'added') added.add(entityKey);
        else added.delete(entityKey);
        if (!PERSON_TYPES.includes(c.entityType)) continue;
        if (c.change === 'removed')
          graceIn.push({
            _id: entityKey,
            tenantId: cs.tenantId,
            entityType: c.entityType,
            entityId: c.entityId,
            graceUntil: new Date(c.removal!.graceUntil),
          });
        else if (c.change === 'restored') graceOut.push(entityKey);
      }
      const t0 = performance.now();
      if (docs.size > 0) await store.putEntities([...docs.values()], (d) => added.has(d._id), fence);
      entitiesMs += performance.now() - t0;
      inserted += added.size;
      for (const [key, doc] of docs) written.set(key, doc);
      if (chunkNo < (cs.publishedChunks ?? 0)) continue;
      // The previous chunk's events are acknowledged (or its failure surfaces) before this one's go.
      await publishing;
      publishing = this.publishChunk(cs, chunkNo, chunk, fence);
      publishing.catch(() => undefined);
    }
    const t1 = performance.now();
    if (written.size > 0)
      await store.updateManifest(
        cs.tenantId,
        [...written.values()].map(manifestEntryOf),
        fence,
        await manifest,
      );
    const t2 = performance.now();
    await store.enterGrace(graceIn, fence);
    for (const id of graceOut) await store.leaveGrace(cs.tenantId, id, fence);
    const t3 = performance.now();
    await publishing;
    this.deps.logger.debug(
      {
        tenantId: cs.tenantId,
        changesetId: cs._id,
        written: written.size,
        inserted,
        entitiesMs: Math.round(entitiesMs),
        manifestMs: Math.round(t2 - t1),
        graceMs: Math.round(t3 - t2),
        // Waiting for the last chunk's events after the manifest and grace writes.
        lastPublishMs: Math.round(performance.now() - t3),
      },
      'changeset applied to the stored roster and published',
    );
  }

  /**
   * Normalises a snapshot with the stored roster as its fallback (references into datasets that are
   * absent or partly unreadable). The fallback's ids come from the manifest; the images of a type
   * are read only when normalisation asks for them (`ImagesOnDemand`), which it does only for a few
   * types (staff by user code, divisions and houses by name) and only when their dataset is absent
   * or partly unreadable — then normalisation (pure) runs again with them.
   */
  private async normaliseOnManifest(
    tenantId: string,
    manifest: Manifest,
    datasets: Partial<Record<DatasetId, RawElement[]>>,
    asOf: Date,
  ): Promise<ReturnType<typeof normalise>> {
    const loaded: Partial<Record<RosterEntityType, ReadonlyMap<string, RosterEntity>>> = {};
    const activeIds = (t: RosterEntityType): string[] =>
      [...(manifest[t]?.values() ?? [])].filter((e) => e.status === 'active').map((e) => e.id);
    for (;;) {
      const fallback: Partial<Record<RosterEntityType, ReadonlyMap<string, RosterEntity>>> = {};
      for (const t of Object.keys(manifest) as RosterEntityType[])
        fallback[t] = loaded[t] ?? new ImagesOnDemand(t, activeIds(t));
      try {
        return normalise({ datasets, asOf, fallback });
      } catch (err) {
        if (!(err instanceof ImagesNeeded) || loaded[err.entityType] !== undefined) throw err;
        const docs = await this.deps.store.entityDocs(tenantId, err.entityType, activeIds(err.entityType));
        loaded[err.entityType] = new Map([...docs.values()].map((d) => [d.entityId, d.image]));
      }
    }
  }

  /**
   * The stored roster as the diff, the identity check and the guard see it, from the manifest plus
   * the images that can differ from the incoming ones: an incoming entity whose hash equals the
   * stored hash has the incoming image (equal content); the images of changed, removed-and-returning,
   * partly read (`keepStored`) and disappearing entities are read from their documents, unless this
   * process has an image in hand with the stored hash (`RosterMemory.images`: the same content). A
   * removed entity that does not return keeps only `{ id }` (nothing reads its image).
   */
  private async storedForDiff(
    tenantId: string,
    manifest: Manifest,
    normalised: ReturnType<typeof normalise>,
  ): Promise<{ stored: StoredByType; activeCounts: Partial<Record<RosterEntityType, number>> }> {
    const stored: StoredByType = {};
    const activeCounts: Partial<Record<RosterEntityType, number>> = {};
    const memory = this.deps.memory?.images;
    for (const t of ROSTER_ENTITY_TYPES) {
      const have = manifest[t];
      if (have === undefined) continue;
      const want = normalised.entities[t];
      const keep = normalised.keepStored[t];
      const same = new Set<string>();
      const need: string[] = [];
      for (const e of have.values()) {
        const incoming = want.get(e.id);
        if (e.status === 'removed') {
          if (incoming !== undefined && e.purged !== true) need.push(e.id);
        } else if (incoming === undefined || keep?.has(e.id) === true || imageHash(incoming) !== e.hash)
          need.push(e.id);
        else same.add(e.id);
      }
      // The images in hand whose content is the stored one's; the others are read.
      const known = new Map<string, RosterEntity>();
      for (const id of need) {
        const image = memory?.image(tenantId, t, id, have.get(id)!.hash);
        if (image !== undefined) known.set(id, image);
      }
      const docs = await this.deps.store.entityDocs(
        tenantId,
        t,
        need.filter((id) => !known.has(id)),
      );
      const m = new Map<string, StoredEntity>();
      for (const e of have.values()) {
        const data = known.get(e.id) ??
          docs.get(e.id)?.image ??
          (same.has(e.id) ? want.get(e.id) : undefined) ?? { id: e.id };
        m.set(e.id, { entityType: t, id: e.id, status: e.status, data, purged: e.purged === true });
        if (e.status === 'active') activeCounts[t] = (activeCounts[t] ?? 0) + 1;
      }
      stored[t] = m;
    }
    return { stored, activeCounts };
  }

  /** The stored roster restricted to the entities of `changes` (status from the manifest, images read). */
  private async storedOf(tenantId: string, changes: readonly StoredChange[]): Promise<StoredByType> {
    const stored: StoredByType = {};
    for (const t of ROSTER_ENTITY_TYPES) {
      const wanted = changes.filter((c) => c.entityType === t).map((c) => c.entityId);
      if (wanted.length === 0) continue;
      const docs = await this.deps.store.entityDocs(tenantId, t, wanted);
      stored[t] = new Map(
        [...docs.values()].map((d) => [
          d.entityId,
          { entityType: t, id: d.entityId, status: d.status, data: d.image, purged: d.purged },
        ]),
      );
    }
    return stored;
  }

  /** Writes the plan's change chunks and findings (deterministic ids: a rerun rewrites the same documents). */
  private async persistPlan(cs: ChangesetDoc, plan: SnapshotPlan, lease: HeldLease): Promise<void> {
    const { store } = this.deps;
    await store.saveChanges(cs.tenantId, cs._id, plan.changes, lease.fence);
    if (cs.kind === 'sync') await store.saveFindings(cs.tenantId, cs.syncRunId, plan.findings, lease.fence);
  }

  /** The run's staged records per dataset, checked against its marker (`ROSTER_SNAPSHOT_INCONSISTENT`). */
  private async stagedDatasets(
    tenantId: string,
    cs: ChangesetDoc,
  ): Promise<Partial<Record<DatasetId, RawElement[]>>> {
    const datasets: Partial<Record<DatasetId, RawElement[]>> = {};
    for (const d of cs.marker!.datasets) {
      const inconsistent = () =>
        RosterErrors.ROSTER_SNAPSHOT_INCONSISTENT({ syncRunId: cs.syncRunId, datasetId: d.datasetId });
      const records: RawElement[] = [];
      for (let i = 0; i < d.chunkCount; i += 1) {
        const c =
          this.deps.memory?.chunks.chunk(
            tenantId,
            cs.syncRunId,
            ids.chunk(tenantId, cs.syncRunId, d.datasetId, d.fingerprint, i),
          ) ?? (await this.deps.store.loadChunk(tenantId, cs.syncRunId, d.datasetId, d.fingerprint, i));
        if (c === null || c.fingerprint !== d.fingerprint || c.chunkCount !== d.chunkCount)
          throw inconsistent();
        records.push(...c.records);
      }
      if (records.length !== d.recordCount) throw inconsistent();
      datasets[d.datasetId] = records;
    }
    return datasets;
  }

  /**
   * Normalises, diffs and guards a staged snapshot against the current store. Pure reads only;
   * `remember` (the plan of a real run, about to be applied) keeps its incoming images in hand.
   */
  async planSnapshot(
    tenantId: string,
    cs: ChangesetDoc,
    opts: { remember?: boolean } = {},
  ): Promise<SnapshotPlan> {
    const { store } = this.deps;
    const marker = cs.marker!;
    const at: number[] = [performance.now()];
    const datasets = await this.stagedDatasets(tenantId, cs);
    const processedAt = cs.processedAt ?? this.now();
    at.push(performance.now());
    const manifest = await store.loadManifest(tenantId);
    at.push(performance.now());
    const normalised = await this.normaliseOnManifest(
      tenantId,
      manifest,
      datasets,
      new Date(marker.fetchedAt),
    );
    at.push(performance.now());
    const { stored, activeCounts } = await this.storedForDiff(tenantId, manifest, normalised);
    // The incoming images are what a real run stores: in hand for the next run's diff (checked then
    // against the stored hashes, so a change this run holds back is read instead), in place of the
    // school's earlier ones (a leaver's image is not kept past the run after their removal).
    if (opts.remember === true)
      this.deps.memory?.images.remember(
        tenantId,
        ROSTER_ENTITY_TYPES.flatMap((t) => [...normalised.entities[t].values()].map((e) => [t, e] as const)),
      );
    at.push(performance.now());
    const changes = diff(stored, normalised.entities, normalised.presentTypes, normalised);
    at.push(performance.now());
    const ms = (k: string, i: number) => [k, Math.round(at[i + 1]! - at[i]!)];
    const steps = ['chunks', 'manifest', 'normalise', 'storedImages', 'diff'];
    this.deps.logger.debug(
      { tenantId, syncRunId: cs.syncRunId, ms: Object.fromEntries(steps.map(ms)) },
      'snapshot planned',
    );
    const identity = checkSchoolIdentity({
      stored,
      incoming: normalised.entities,
      presentTypes: normalised.presentTypes,
      partial: normalised,
    });
    this.deps.logger.info(
      {
        tenantId,
        syncRunId: cs.syncRunId,
        verdict: identity.verdict,
        people: identity.people,
        structure: identity.structure,
      },
      'school identity checked',
    );
    const thresholds = (await store.thresholds(tenantId)) ?? this.deps.defaultThresholds;
    // The pending batch stays decidable: its removals stay held; what an admin discarded stays unapplied.
    const pending = await store.pendingBatch(tenantId);
    const pendingItems = pending === null ? [] : await store.heldItems(pending);
    const pendingHeld = new Map<string, HoldReason>();
    for (const c of pendingItems)
      if (c.change === 'removed')
        pendingHeld.set(entityKey(c), pending!.heldTypes[c.entityType] ?? 'threshold');
    const discards = await store.discarded(tenantId);
    // Entries of a batch still pending belong to a discard that has not finished (a crash): not yet in force.
    const memory = new DiscardMemory(discards.filter((e) => e.batchId !== pending?.batchId));
    const judgedTypes = new Set(
      [...normalised.presentTypes].filter((t) => normalised.suspendedTypes?.has(t) !== true),
    );
    const sentUnjudged = sentOfUnjudgedTypes(normalised, judgedTypes);
    const covered: DiscardedChange[] = [];
    const wholeRun = identity.verdict === 'different_school';
    // A removal an admin discarded (same person, same stored image) is not counted against the thresholds.
    const discardedRemovals: PlannedChange[] = [];
    const judged: PlannedChange[] = [];
    for (const c of changes) {
      const e = wholeRun || c.change !== 'removed' ? undefined : memory.covering(c);
      if (e === undefined) judged.push(c);
      else {
        covered.push(e);
        discardedRemovals.push(c);
      }
    }
    const g = guard({
      changes: judged,
      activeCounts,
      thresholds,
      datasetRecordCounts: normalised.datasetRecordCounts,
      stored,
      identity,
      pendingHeld,
      kept: new Set(discardedRemovals.map(entityKey)),
    });
    // Held changes a discard covers (a dependent's removal, a dropped link) stay unapplied too; a
    // whole run is discarded only as a whole (every change of it covered).
    type Disposition = StoredChange['disposition'];
    const decisions: { change: PlannedChange; disposition: Disposition }[] = g.decisions.map((d) => ({
      ...d,
    }));
    const heldDecisions = decisions.filter((d) => d.disposition === 'held');
    const coveringHeld = heldDecisions.map((d) => memory.covering(d.change));
    if (!wholeRun || (heldDecisions.length > 0 && coveringHeld.every((e) => e !== undefined)))
      heldDecisions.forEach((d, i) => {
        const e = coveringHeld[i];
        if (e === undefined) return;
        covered.push(e);
        d.disposition = 'discarded';
      });
    const order = new Map(changes.map((c, i) => [`${entityKey(c)}:${c.change}`, i]));
    const all = [
      ...decisions,
      ...discardedRemovals.map((change) => ({ change, disposition: 'discarded' as Disposition })),
    ]
      .map((d, i) => ({ d, at: order.get(`${entityKey(d.change)}:${d.change.change}`) ?? 0, i }))
      .sort((x, y) => x.at - y.at || x.i - y.i)
      .map((x) => x.d);
    const graceUntil = new Date(processedAt.getTime() + this.deps.graceDays * DAY_MS).toISOString();
    const planned: StoredChange[] = all.map(({ change: c, disposition }, seq) => ({
      seq,
      ...c,
      disposition,
      ...(c.change === 'removed' && disposition === 'apply'
        ? { removal: { reason: 'absent_from_feed' as const, graceUntil } }
        : {}),
    }));
    const heldNow = planned.filter((c) => c.disposition === 'held');
    const discardedCount = planned.filter((c) => c.disposition === 'discarded').length;
    const incomingCounts: Partial<Record<RosterEntityType, number>> = {};
    for (const [t, m] of Object.entries(normalised.entities) as [
      RosterEntityType,
      Map<string, RosterEntity>,
    ][])
      if (normalised.presentTypes.has(t)) incomingCounts[t] = m.size;
    const connectorFindings = (
      (marker as { connectorFindings?: RosterFinding[] }).connectorFindings ?? []
    ).map((f) => ({ ...f, severity: f.severity ?? 'warning' }));
    return {
      changes: planned,
      findings: [...connectorFindings, ...normalised.findings],
      counts: countChanges(g.apply, heldNow, incomingCounts, normalised.skipped),
      heldTypes: Object.fromEntries(
        Object.entries(g.heldTypes).filter(([t]) => heldNow.some((c) => c.entityType === t)),
      ),
      heldCount: heldNow.length,
      ...(g.hold === undefined || heldNow.length === 0 ? {} : { hold: g.hold }),
      ...(discardedCount > 0 ? { discardedCount } : {}),
      batchContext: { pending, pendingItems, judgedTypes, sentUnjudged, discards, covered },
    };
  }

  /**
   * Keeps the school's one pending batch current after a real run (docs/roster-model.md › Held
   * batches): its items become the run's held changes plus the earlier items of types the run could
   * not judge; when they differ from the batch's, they are written as a new version (change chunks
   * under deterministic ids, then the batch document); an empty batch is closed (`superseded`:
   * nothing left to decide) and that is reported on the run that opened it. With no pending batch,
   * held changes open one (`held-<run>`). Discards that no longer cover anything are forgotten. Every write is idempotent, and re-planning the run
   * after any of them gives the same plan, so a crash anywhere here ends in the same state.
   * Returns the batch the run's held changes are in.
   */
  private async updateHeldBatch(
    cs: ChangesetDoc,
    plan: SnapshotPlan,
    lease: HeldLease,
  ): Promise<string | undefined> {
    const { store } = this.deps;
    const { fence } = lease;
    const { tenantId } = cs;
    const at = cs.processedAt!;
    const { pending, pendingItems, judgedTypes, sentUnjudged, discards, covered } = plan.batchContext!;
    const runHeld = plan.changes.filter((c) => c.disposition === 'held');
    const merged = mergeBatchItems(pendingItems, runHeld, judgedTypes, sentUnjudged);
    const items: StoredChange[] = merged.map((c, seq) => ({
      ...(c as StoredChange),
      seq,
      disposition: 'held',
    }));
    const heldTypes: Partial<Record<RosterEntityType, HoldReason>> = {};
    const countsByType: Partial<Record<RosterEntityType, number>> = {};
    for (const c of items) {
      countsByType[c.entityType] = (countsByType[c.entityType] ?? 0) + 1;
      heldTypes[c.entityType] ??=
        plan.heldTypes[c.entityType] ?? pending?.heldTypes[c.entityType] ?? 'threshold';
    }
    const itemsHash = itemsFingerprint(items);
    const writeItems = async (batchId: string, version: number): Promise<string> => {
      const csId = ids.heldItems(tenantId, batchId, version);
      await store.saveChanges(tenantId, csId, items, fence);
      return csId;
    };
    const contents = (version: number, itemsChangesetId: string) => ({
      version,
      itemsChangesetId,
      itemChunkCount: Math.ceil(items.length / CHANGE_CHUNK_SIZE),
      itemsHash,
      heldTypes,
      countsByType,
      total: items.length,
      kind: plan.hold?.kind ?? pending?.kind ?? 'removals',
      ...(plan.hold !== undefined
        ? { reason: plan.hold.reason }
        : pending?.reason === undefined
          ? {}
          : { reason: pending.reason }),
      lastSyncRunId: cs.syncRunId,
      updatedAt: at,
    });

    let batchId: string | undefined;
    if (pending !== null) {
      const current = pending.itemsHash ?? itemsFingerprint(pendingItems);
      if (items.length === 0) {
        await store.supersedeHeldBatch(pending, at, cs.syncRunId, fence);
        // Its runs are no longer held for review: reported on the run that opened it (a crash before
        // the report leaves it owed, and the sweeper sends it: the batch is no longer pending here).
        const closed = await store.heldBatch(tenantId, pending.batchId);
        if (closed !== null)
          await reportHeldBatchDecision(
            { store, reports: this.deps.publisher, now: this.now },
            closed,
            fence,
          );
      } else {
        batchId = pending.batchId;
        if (itemsHash !== current) {
          const version = (pending.version ?? 1) + 1;
          const csId = await writeItems(pending.batchId, version);
          await this.hook('held-batch', cs);
          await store.reviseHeldBatch(pending, contents(version, csId), fence);
          if (pending.itemsChangesetId !== undefined && pending.itemsChangesetId !== csId)
            await store.dropChanges(tenantId, pending.itemsChangesetId, fence);
        }
      }
    } else if (items.length > 0) {
      batchId = ids.batchOf(cs.syncRunId);
      const csId = await writeItems(batchId, 1);
      await this.hook('held-batch', cs);
      await store.openHeldBatch(
        {
          _id: ids.heldBatch(tenantId, batchId),
          tenantId,
          batchId,
          syncRunId: cs.syncRunId,
          status: 'pending',
          createdAt: at,
          ...contents(1, csId),
        },
        fence,
      );
    }

    const stillCovered = new Set(covered);
    const kept = discards.filter(
      (e) => e.batchId === pending?.batchId || stillCovered.has(e) || !judgedTypes.has(e.entityType),
    );
    if (kept.length !== discards.length) await store.putDiscarded(tenantId, kept, at, fence);
    return runHeld.length > 0 ? batchId : undefined;
  }

  /**
   * What an approved batch applies: its held changes released against the roster as it is now
   * (`releaseHeld`: removals of entities still active, additions/updates/restores not already so),
   * removals with the approval as their reason.
   */
  private async planApproval(cs: ChangesetDoc): Promise<SnapshotPlan> {
    const { store } = this.deps;
    const batch = await store.heldBatch(cs.tenantId, cs.heldBatchId ?? ids.batchOf(cs.syncRunId));
    const graceUntil = new Date(cs.processedAt!.getTime() + this.deps.graceDays * DAY_MS).toISOString();
    // The items of the version the admin approved (a decided batch's items never change).
    const held: StoredChange[] = batch === null ? [] : await store.heldItems(batch);
    const stored = await this.storedOf(cs.tenantId, held);
    const released = releaseHeld(held, stored);
    const changes: StoredChange[] = released.map((c, seq) => ({
      ...c,
      seq,
      disposition: 'apply',
      ...(c.change === 'removed'
        ? {
            removal: {
              reason: 'approved_held_batch' as const,
              graceUntil,
              heldBatchId: batch!.batchId,
              ...(batch?.decidedBy === undefined ? {} : { approvedBy: batch.decidedBy }),
            },
          }
        : {}),
    }));
    const counts = countChanges(released, [], {});
    return { changes, findings: [], counts, heldTypes: {}, heldCount: 0 };
  }

  /**
   * What undoing a run restores ({@link planRunUndo}): the entities its changesets (the run and its
   * approval) removed that are still removed by it and within their grace period, as `restored`
   * changes with the image they had. Pure reads; the preview calls it too, so preview = outcome.
   */
  async planUndo(tenantId: string, syncRunId: string, at: Date, undoneBy?: string): Promise<SnapshotPlan> {
    const { store } = this.deps;
    const removedByRun: Array<{ entityType: RosterEntityType; entityId: string }> = [];
    for (const kind of ['sync', 'approval'] as const) {
      const source = await store.getChangeset(tenantId, ids.changeset(tenantId, syncRunId, kind));
      if (source === null || source.dryRun) continue;
      for (let chunkNo = 0; chunkNo < (source.chunkCount ?? 0); chunkNo += 1)
        for (const c of await this.chunk(source, chunkNo))
          if (c.change === 'removed' && c.disposition === 'apply')
            removedByRun.push({ entityType: c.entityType, entityId: c.entityId });
    }
    const current = new Map<string, CurrentEntity>();
    for (const t of ROSTER_ENTITY_TYPES) {
      const wanted = removedByRun.filter((r) => r.entityType === t).map((r) => r.entityId);
      for (const d of (await store.entityDocs(tenantId, t, wanted)).values())
        current.set(`${t}/${d.entityId}`, toRecord(d));
    }
    const { restore, skipped } = planRunUndo({
      syncRunId,
      removedByRun,
      current: (t, id) => current.get(`${t}/${id}`),
      now: at,
    });
    const changes: StoredChange[] = restore.map((r, seq) => ({
      seq,
      entityType: r.entityType,
      entityId: r.entityId,
      change: 'restored',
      before: r.image,
      after: r.image,
      changedFields: [],
      disposition: 'apply',
      restoration: { reason: 'run_undone', ...(undoneBy === undefined ? {} : { undoneBy }) },
    }));
    return {
      changes,
      findings: [],
      counts: countChanges(changes, [], {}),
      heldTypes: {},
      heldCount: 0,
      undoSkipped: skipped,
    };
  }
}

/** Thrown by {@link ImagesOnDemand} when normalisation reads stored images not loaded yet. */
class ImagesNeeded extends Error {
  constructor(readonly entityType: RosterEntityType) {
    super(`stored ${entityType} images needed`);
  }
}

/**
 * A type's stored (active) roster for normalisation's fallback, known by ids only (from the
 * manifest): `has`, `keys` and `size` answer; reading an image throws {@link ImagesNeeded}, and the
 * processor loads the type's images and normalises again.
 */
class ImagesOnDemand implements ReadonlyMap<string, RosterEntity> {
  private readonly ids: ReadonlySet<string>;
  constructor(
    private readonly entityType: RosterEntityType,
    ids: readonly string[],
  ) {
    this.ids = new Set(ids);
  }
  get size(): number {
    return this.ids.size;
  }
  has(id: string): boolean {
    return this.ids.has(id);
  }
  keys(): MapIterator<string> {
    return this.ids.keys();
  }
  get(): RosterEntity | undefined {
    throw new ImagesNeeded(this.entityType);
  }
  values(): MapIterator<RosterEntity> {
    throw new ImagesNeeded(this.entityType);
  }
  entries(): MapIterator<[string, RosterEntity]> {
    throw new ImagesNeeded(this.entityType);
  }
  forEach(): void {
    throw new ImagesNeeded(this.entityType);
  }
  [Symbol.iterator](): MapIterator<[string, RosterEntity]> {
    throw new ImagesNeeded(this.entityType);
  }
}

/** The dataset ids in catalogue order (for reports). */
export const ALL_DATASETS: readonly DatasetId[] = DATASET_IDS;

/** A sync run's fetch, as it moves the school's changeset order on. */
function syncFetchOf(marker: StoredMarker): Pick<SyncApplying, 'syncFetchedAt' | 'syncFetchSequence'> {
  return {
    syncFetchedAt: new Date(marker.fetchedAt),
    ...(marker.fetchSequence === undefined ? {} : { syncFetchSequence: marker.fetchSequence }),
  };
}

/**
 * When `cs` is a sync run (not a dry run) fetched before a sync run of its school that started
 * applying, how that was decided (for the error's message); else undefined. The marker's contract
 * orders them (libs/events `compareFetchOrder`): by fetch sequence — taken as each run starts
 * fetching, so the higher is the newer document whatever the connector replicas' clocks said — and
 * by the fetch times only when either side has none (a marker from a connector before it, or a
 * school whose newest applied run came before it).
 */
function supersededBy(cs: ChangesetDoc, order: ChangesetOrder): FetchOrder | undefined {
  if (cs.kind !== 'sync' || cs.dryRun || order.lastSyncFetchedAt === undefined) return undefined;
  const { fetchSequence, fetchedAt } = cs.marker!;
  const { lastSyncFetchSequence, lastSyncFetchedAt } = order;
  const newest = { fetchSequence: lastSyncFetchSequence, fetchedAt: lastSyncFetchedAt };
  const { order: cmp, by } = compareFetchOrder(newest, { fetchSequence, fetchedAt });
  if (cmp <= 0) return undefined;
  return by === 'sequence'
    ? { by, fetchSequence: fetchSequence!, newerFetchSequence: lastSyncFetchSequence! }
    : { by, fetchedAt, newerFetchedAt: lastSyncFetchedAt.toISOString() };
}

/** The entities a run sent of the present types it could not judge (`mergeBatchItems`'s `sent`). */
function sentOfUnjudgedTypes(
  normalised: Pick<NormalisedSnapshot, 'presentTypes' | 'entities'>,
  judgedTypes: ReadonlySet<RosterEntityType>,
): Set<EntityKey> {
  const sent = new Set<EntityKey>();
  for (const t of normalised.presentTypes)
    if (!judgedTypes.has(t))
      for (const entityId of normalised.entities[t]?.keys() ?? [])
        sent.add(entityKey({ entityType: t, entityId }));
  return sent;
}
