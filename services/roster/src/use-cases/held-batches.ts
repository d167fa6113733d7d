import type { ChangesetDoc, HeldBatchDoc } from './records';
import { ids } from './records';
import type { ChangesetStore, HeldLease, RosterPublisher, WriteFence } from './ports';
import { contentHash } from '../domain/held-batch';
import { RosterErrors } from '../domain/roster-errors';
import type { ChangesetProcessor } from './changeset-processor';
import { runDecisionEvent } from './roster-events';

/**
 * How far back the sweeper looks for approvals whose changeset was never created: well inside the
 * changesets' 14-day retention (an older approval's changeset may have been pruned, and re-creating
 * it would apply the batch again), and longer than any roster outage we plan for.
 */
export const APPROVAL_RECOVERY_WINDOW_MS = 7 * 86_400_000;
/** At most this many recent approvals are checked per sweep (a school approves a few a term). */
const APPROVAL_RECOVERY_LIMIT = 500;

/** What one sweep's check of recent decisions did: batch ids resumed, and the ones that failed. */
export interface StrandedApprovals {
  resumed: string[];
  failed: Array<{ tenantId: string; batchId: string; err: unknown }>;
}

/** An approved batch's approval, as the API shows it (`''`: not approved). */
export type ApprovalState = '' | 'applying' | 'applied' | 'failed';

/** An admin's decision on a held batch: who decided (`actor`), why, and on which version they saw. */
export interface HeldBatchDecisionRequest {
  tenantId: string;
  batchId: string;
  actor: string | undefined;
  comment: string;
  /** The version the admin saw (0/absent: any); a changed batch is refused. */
  version?: number;
  /** How long to wait for a school another replica is processing. */
  deadline?: Date;
}

/** Approve/discard of held removal batches (one-shot; the thresholds are never touched). */
export class HeldBatches {
  constructor(
    private readonly store: ChangesetStore,
    private readonly processor: ChangesetProcessor,
    /** Where a discard is reported (`sync.runs.v1`); an approval reports through its changeset. */
    private readonly reports: Pick<RosterPublisher, 'publishRunUpdate'>,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(tenantId: string, batchId: string): Promise<HeldBatchDoc> {
    const batch = await this.store.heldBatch(tenantId, batchId);
    if (batch === null) throw RosterErrors.ROSTER_HELD_BATCH_NOT_FOUND({ batchId });
    return batch;
  }

  /** Refuses a decision on a view of the batch older than its current items (`version` 0/absent: any). */
  private assertVersion(batch: HeldBatchDoc, version: number | undefined): void {
    const current = batch.version ?? 1;
    if (version !== undefined && version > 0 && version !== current)
      throw RosterErrors.ROSTER_HELD_BATCH_CHANGED({ batchId: batch.batchId, seen: version, current });
  }

  /**
   * An approved batch's approval: `applying` until its changeset is done (`applied`) or has failed (`failed`);
   * `''` for a batch that is not approved.
   */
  async approvalState(tenantId: string, batch: HeldBatchDoc): Promise<ApprovalState> {
    if (batch.status !== 'approved') return '';
    const id = batch.approvalChangesetId ?? ids.changeset(tenantId, batch.syncRunId, 'approval');
    const cs = await this.store.getChangeset(tenantId, id);
    // A failed changeset ends `done` too, its outcome `failed` (fixed from its `reporting` step on).
    if (cs?.outcome === 'failed' || cs?.state === 'failed') return 'failed';
    return cs?.state === 'done' ? 'applied' : 'applying';
  }

  /**
   * Approves a pending batch: records who/when/why and the approval changeset that applies its items
   * — exactly the version the admin saw when `version` is given (else the current one; a changed
   * batch is refused with `ROSTER_HELD_BATCH_CHANGED`): removals of still-active entities with reason
   * `approved_held_batch` — and answers; the changeset is worked through in the background (a whole
   * school's apply outlasts any request deadline; the run turns from held to applied when it is
   * done, and {@link approvalState} shows it). Retrying an approved batch resumes that changeset and
   * changes nothing else. Waits for a school another replica is processing (bounded; then
   * `ROSTER_TENANT_BUSY`).
   */
  async approve(request: HeldBatchDecisionRequest): Promise<HeldBatchDoc> {
    const { tenantId, batchId } = request;
    // An approval is final: a repeat (a second click while it applies) answers from the record
    // without waiting for the school, which the applying approval may hold for long — once its
    // changeset exists: a holder that died between recording the approval and creating the
    // changeset left none, and the repeat creates it (found by the crash matrix).
    const seen = await this.get(tenantId, batchId);
    if (
      seen.status === 'approved' &&
      seen.approvalChangesetId !== undefined &&
      (await this.store.getChangeset(tenantId, seen.approvalChangesetId)) !== null
    ) {
      this.processor.advanceInBackground(tenantId, seen.approvalChangesetId);
      return seen;
    }
    const approved = await this.recordApproval(request);
    this.processor.advanceInBackground(tenantId, approved.changesetId);
    return approved.batch;
  }

  /**
   * The sweeper's repair of an approval whose process died between recording the decision and
   * creating its changeset (found by the crash matrix): the admin's call was never answered, and
   * without a retried approval nothing would ever apply it. Every batch approved within
   * `APPROVAL_RECOVERY_WINDOW_MS` whose approval changeset does not exist gets it now (the same
   * idempotent step an approval takes) and is worked through in the background. A school another
   * replica holds is left to the next sweep, and one that fails does not stop the others (it is
   * tried again at the next sweep). Returns what it resumed and what failed.
   */
  async resumeStrandedApprovals(now: Date): Promise<StrandedApprovals> {
    const since = new Date(now.getTime() - APPROVAL_RECOVERY_WINDOW_MS);
    const result: StrandedApprovals = { resumed: [], failed: [] };
    for (const batch of await this.store.approvedBatchesSince(since, APPROVAL_RECOVERY_LIMIT)) {
      try {
        if (await this.resumeApproval(batch)) result.resumed.push(batch.batchId);
      } catch (err) {
        result.failed.push({ tenantId: batch.tenantId, batchId: batch.batchId, err });
      }
    }
    return result;
  }

  /** One approved batch: creates its changeset when missing; `false` when there was nothing to do. */
  private async resumeApproval(batch: HeldBatchDoc): Promise<boolean> {
    const { tenantId } = batch;
    const changesetId = batch.approvalChangesetId ?? ids.changeset(tenantId, batch.syncRunId, 'approval');
    if ((await this.store.getChangeset(tenantId, changesetId)) !== null) return false;
    const request: HeldBatchDecisionRequest = {
      tenantId,
      batchId: batch.batchId,
      actor: batch.decidedBy,
      comment: batch.comment ?? '',
    };
    const ran = await this.processor.tryWithTenant(tenantId, async (lease) => {
      await this.approvalUnderLease(request, lease);
    });
    if (!ran) return false;
    this.processor.advanceInBackground(tenantId, changesetId);
    return true;
  }

  /** The decision and its changeset (`staged`), under the school's lease; idempotent. */
  private recordApproval(
    request: HeldBatchDecisionRequest,
  ): Promise<{ batch: HeldBatchDoc; changesetId: string }> {
    return this.processor.withTenant(
      request.tenantId,
      (lease) => this.approvalUnderLease(request, lease),
      request.deadline,
    );
  }

  private async approvalUnderLease(
    request: HeldBatchDecisionRequest,
    lease: HeldLease,
  ): Promise<{ batch: HeldBatchDoc; changesetId: string }> {
    const { tenantId, batchId, actor, comment, version } = request;
    let batch = await this.get(tenantId, batchId);
    if (batch.status !== 'pending' && batch.status !== 'approved') {
      throw RosterErrors.ROSTER_HELD_BATCH_NOT_PENDING({ batchId, status: batch.status });
    }
    if (batch.status === 'pending') this.assertVersion(batch, version);
    const changesetId = ids.changeset(tenantId, batch.syncRunId, 'approval');
    if (batch.status === 'pending') {
      const decidedAt = this.now();
      await this.store.approveHeldBatch(
        batch,
        {
          decidedAt,
          comment,
          approvalChangesetId: changesetId,
          ...(actor === undefined ? {} : { decidedBy: actor }),
        },
        lease.fence,
      );
      batch = await this.get(tenantId, batchId);
    }
    const source = await this.store.getChangeset(tenantId, ids.changeset(tenantId, batch.syncRunId));
    await this.store.createChangeset(
      {
        _id: changesetId,
        tenantId,
        syncRunId: batch.syncRunId,
        kind: 'approval',
        state: 'staged',
        heldBatchId: batch.batchId,
        holdKind: batch.kind ?? source?.holdKind ?? 'removals',
        dryRun: false,
        ...(source?.marker === undefined ? {} : { marker: source.marker }),
        receivedAt: batch.decidedAt ?? this.now(),
        processedAt: batch.decidedAt ?? this.now(),
        ...(batch.decidedBy === undefined ? {} : { approvedBy: batch.decidedBy }),
      },
      lease.fence,
    );
    return { batch, changesetId };
  }

  /**
   * Discards a pending batch: nothing of it is applied, and it holds: each of its changes is
   * remembered with the content it was decided on (`discardedChanges`), so later runs neither apply
   * nor hold the same change again until that person's data changes (or they come back and leave
   * again) — then it is a new decision. The memory is written first (not in force while the batch is
   * pending), then the status, then the report on the run that opened the batch (`sync.runs.v1`
   * sequence 3 `discarded`: the run is decided, no longer held for review), then that the report
   * was sent. A crash in between is finished by retrying, or — the report — by the sweeper
   * ({@link resumeDecisionReports}).
   */
  discard(request: HeldBatchDecisionRequest): Promise<HeldBatchDoc> {
    const { tenantId, batchId, actor, comment, version, deadline } = request;
    return this.processor.withTenant(
      tenantId,
      async (lease) => {
        const batch = await this.get(tenantId, batchId);
        if (batch.status === 'discarded') {
          if (batch.decisionReportedAt === undefined) await this.report(batch, lease);
          return this.get(tenantId, batchId);
        }
        if (batch.status !== 'pending')
          throw RosterErrors.ROSTER_HELD_BATCH_NOT_PENDING({ batchId, status: batch.status });
        this.assertVersion(batch, version);
        const discardedAt = this.now();
        const items = await this.store.heldItems(batch);
        const mine = new Set(items.map((c) => `${c.entityType}/${c.entityId}:${c.change}`));
        const others = (await this.store.discarded(tenantId)).filter(
          (e) => e.batchId !== batch.batchId && !mine.has(`${e.entityType}/${e.entityId}:${e.change}`),
        );
        await this.store.putDiscarded(
          tenantId,
          [
            ...others,
            ...items.map((c) => ({
              entityType: c.entityType,
              entityId: c.entityId,
              change: c.change,
              hash: contentHash(c),
              batchId: batch.batchId,
              discardedAt: discardedAt.toISOString(),
            })),
          ],
          discardedAt,
          lease.fence,
        );
        await this.store.discardHeldBatch(
          batch,
          { decidedAt: discardedAt, comment, ...(actor === undefined ? {} : { decidedBy: actor }) },
          lease.fence,
        );
        await this.report(await this.get(tenantId, batchId), lease);
        return this.get(tenantId, batchId);
      },
      deadline,
    );
  }

  /**
   * The sweeper's repair of a discard — or a supersede (ChangesetProcessor `updateHeldBatch`) — whose
   * process died before its report was acknowledged: every batch discarded or superseded within
   * `APPROVAL_RECOVERY_WINDOW_MS` whose report is owed is reported now (the same idempotent step a
   * retried discard takes). A school another replica holds is left to the next sweep, and one that
   * fails does not stop the others. Returns what it reported and what failed.
   */
  async resumeDecisionReports(now: Date): Promise<StrandedApprovals> {
    const since = new Date(now.getTime() - APPROVAL_RECOVERY_WINDOW_MS);
    const result: StrandedApprovals = { resumed: [], failed: [] };
    for (const owed of await this.store.decisionsToReport(since, APPROVAL_RECOVERY_LIMIT)) {
      try {
        const ran = await this.processor.tryWithTenant(owed.tenantId, async (lease) => {
          const batch = await this.get(owed.tenantId, owed.batchId);
          if (isReportedDecision(batch) && batch.decisionReportedAt === undefined)
            await this.report(batch, lease);
        });
        if (ran) result.resumed.push(owed.batchId);
      } catch (err) {
        result.failed.push({ tenantId: owed.tenantId, batchId: owed.batchId, err });
      }
    }
    return result;
  }

  private report(batch: HeldBatchDoc, lease: HeldLease): Promise<void> {
    return reportHeldBatchDecision(
      { store: this.store, reports: this.reports, now: this.now },
      batch,
      lease.fence,
    );
  }
}

/** A batch whose decision is reported by itself (an approval reports through its changeset). */
function isReportedDecision(batch: HeldBatchDoc): boolean {
  return batch.status === 'discarded' || batch.status === 'superseded';
}

/**
 * Reports a discarded or superseded batch on the run that opened it (`sync.runs.v1` sequence 3: the
 * connector settles every run held on the batch), then records that it was sent
 * (`decisionReportedAt`). Idempotent: a re-send keeps the event's id and time. Called by a discard,
 * by the run that supersedes a batch, and by the sweeper for a report a crash left owed.
 */
export async function reportHeldBatchDecision(
  deps: { store: ChangesetStore; reports: Pick<RosterPublisher, 'publishRunUpdate'>; now: () => Date },
  batch: HeldBatchDoc,
  fence: WriteFence,
): Promise<void> {
  const { tenantId, syncRunId } = batch;
  const opening: ChangesetDoc = (await deps.store.getChangeset(
    tenantId,
    ids.changeset(tenantId, syncRunId),
  )) ?? {
    // A run's changeset outlives its batch's decision window; without it the report says less.
    _id: ids.changeset(tenantId, syncRunId),
    tenantId,
    syncRunId,
    kind: 'sync',
    state: 'done',
    dryRun: false,
    receivedAt: batch.createdAt,
  };
  await fence.check();
  await deps.reports.publishRunUpdate(runDecisionEvent(opening, batch));
  await deps.store.decisionReported(batch, deps.now(), fence);
}
