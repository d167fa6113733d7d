import type { ChangesetDoc } from './records';
import { ids } from './records';
import type { ChangesetStore } from './ports';
import { RosterErrors } from '../domain/roster-errors';
import type { ChangesetProcessor, SnapshotPlan } from './changeset-processor';

const DAY_MS = 86_400_000;

/** A run's undo as the API shows it: before (a preview) or after it was done. */
export interface RunUndoView {
  syncRunId: string;
  /** `possible`: not undone yet (the preview); `undoing`: in progress (resumed after a crash); `undone`. */
  status: 'possible' | 'undoing' | 'undone';
  /** Preview: what undoing restores now; after: what it restored. */
  restore: Array<{ entityType: string; entityId: string }>;
  skipped: NonNullable<SnapshotPlan['undoSkipped']>;
  /** Until when the run can be undone (its removals' grace period). */
  expiresAt: Date;
  undoneBy?: string;
  undoneAt?: Date;
  comment?: string;
}

/**
 * Undo a run: restore everyone (and everything) the run removed, within the removal grace period
 * (`REMOVAL_GRACE_DAYS`, the time a removed person's data is kept). The undo is a changeset of kind
 * `undo` (`<tenant>|<run>|undo`) that goes through the same resumable, fenced steps as a run and
 * publishes `restored` events (with `restoration.reason = run_undone`), so it is crash-safe; its id
 * is fixed per run, so undoing twice is undoing once (the first admin and time are kept).
 */
export class RunUndo {
  constructor(
    private readonly store: ChangesetStore,
    private readonly processor: ChangesetProcessor,
    private readonly graceDays: number,
    private readonly now: () => Date = () => new Date(),
  ) {}

  private async undoable(
    tenantId: string,
    syncRunId: string,
  ): Promise<{ run: ChangesetDoc; expiresAt: Date }> {
    const run = await this.store.getChangeset(tenantId, ids.changeset(tenantId, syncRunId));
    if (run === null) throw RosterErrors.ROSTER_RUN_NOT_FOUND({ syncRunId });
    if (run.dryRun) throw RosterErrors.ROSTER_UNDO_NOT_POSSIBLE({ syncRunId, why: 'it was a dry run' });
    if (run.state !== 'done' || run.processedAt === undefined)
      throw RosterErrors.ROSTER_UNDO_NOT_POSSIBLE({ syncRunId, why: 'it has not finished' });
    return { run, expiresAt: new Date(run.processedAt.getTime() + this.graceDays * DAY_MS) };
  }

  private view(undo: ChangesetDoc, restore: RunUndoView['restore'], expiresAt: Date): RunUndoView {
    return {
      syncRunId: undo.syncRunId,
      status: undo.state === 'done' ? 'undone' : 'undoing',
      restore,
      skipped: undo.undoSkipped ?? {},
      expiresAt,
      ...(undo.undoneBy === undefined ? {} : { undoneBy: undo.undoneBy }),
      ...(undo.processedAt === undefined ? {} : { undoneAt: undo.processedAt }),
      ...(undo.undoComment === undefined ? {} : { comment: undo.undoComment }),
    };
  }

  private async restoredBy(undo: ChangesetDoc): Promise<RunUndoView['restore']> {
    const out: RunUndoView['restore'] = [];
    for (let chunkNo = 0; chunkNo < (undo.chunkCount ?? 0); chunkNo += 1)
      for (const c of (await this.store.changeChunk(undo.tenantId, undo._id, chunkNo))?.changes ?? [])
        out.push({ entityType: c.entityType, entityId: c.entityId });
    return out;
  }

  /** What undoing the run would restore now (or what its undo restored). */
  async preview(tenantId: string, syncRunId: string): Promise<RunUndoView> {
    const { expiresAt } = await this.undoable(tenantId, syncRunId);
    const undo = await this.store.getChangeset(tenantId, ids.changeset(tenantId, syncRunId, 'undo'));
    if (undo !== null) return this.view(undo, await this.restoring(undo), expiresAt);
    const plan = await this.processor.planUndo(tenantId, syncRunId, this.now());
    return {
      syncRunId,
      status: 'possible',
      restore: plan.changes.map((c) => ({ entityType: c.entityType, entityId: c.entityId })),
      skipped: plan.undoSkipped ?? {},
      expiresAt,
    };
  }

  /**
   * Undoes the run (once; a repeat resumes or returns the first undo): records the undo changeset
   * under the school's lease and answers (`undoing`, with what it restores); the changeset is worked
   * through in the background — a large run's undo outlasts any request deadline.
   */
  async undo(
    tenantId: string,
    syncRunId: string,
    actor: string | undefined,
    comment: string,
    deadline?: Date,
  ): Promise<RunUndoView> {
    // An undo is recorded once: a repeat (a second click while it applies) answers from the record
    // without waiting for the school, which the applying undo may hold for long.
    const recorded = await this.store.getChangeset(tenantId, ids.changeset(tenantId, syncRunId, 'undo'));
    const { undo, expiresAt } =
      recorded === null
        ? await this.recordUndo(tenantId, syncRunId, actor, comment, deadline)
        : { undo: recorded, expiresAt: (await this.undoable(tenantId, syncRunId)).expiresAt };
    if (undo.state !== 'done') this.processor.advanceInBackground(tenantId, undo._id);
    return this.view(undo, await this.restoring(undo), expiresAt);
  }

  /**
   * What the undo restores: once planned, its recorded changes; before (it is still `staged`, so
   * nothing is applied yet), the plan as a preview works it out.
   */
  private async restoring(undo: ChangesetDoc): Promise<RunUndoView['restore']> {
    if (undo.chunkCount !== undefined || undo.state === 'done') return this.restoredBy(undo);
    const plan = await this.processor.planUndo(undo.tenantId, undo.syncRunId, this.now());
    return plan.changes.map((c) => ({ entityType: c.entityType, entityId: c.entityId }));
  }

  /** The undo changeset (`staged`), created once under the school's lease. */
  private recordUndo(
    tenantId: string,
    syncRunId: string,
    actor: string | undefined,
    comment: string,
    deadline: Date | undefined,
  ): Promise<{ undo: ChangesetDoc; expiresAt: Date }> {
    return this.processor.withTenant(
      tenantId,
      async (lease) => {
        const { run, expiresAt } = await this.undoable(tenantId, syncRunId);
        const id = ids.changeset(tenantId, syncRunId, 'undo');
        if ((await this.store.getChangeset(tenantId, id)) === null) {
          const at = this.now();
          if (at.getTime() > expiresAt.getTime())
            throw RosterErrors.ROSTER_UNDO_EXPIRED({ syncRunId, expiredAt: expiresAt.toISOString() });
          await this.store.createChangeset(
            {
              _id: id,
              tenantId,
              syncRunId,
              kind: 'undo',
              state: 'staged',
              dryRun: false,
              ...(run.marker === undefined ? {} : { marker: run.marker }),
              receivedAt: at,
              processedAt: at,
              ...(actor === undefined ? {} : { undoneBy: actor }),
              undoComment: comment,
            },
            lease.fence,
          );
        }
        return { undo: (await this.store.getChangeset(tenantId, id))!, expiresAt };
      },
      deadline,
    );
  }
}
