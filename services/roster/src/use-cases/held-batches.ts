import type { HeldBatchDoc } from '../adapters/mongo/documents';
import { ids } from '../adapters/mongo/documents';
import { COLLECTIONS } from '../adapters/mongo/roster-store';
import type { RosterStore } from '../adapters/mongo/roster-store';
import { RosterErrors } from '../domain/roster-errors';
import type { ChangesetProcessor } from './changeset-processor';

/** Approve/discard of held removal batches (one-shot; the thresholds are never touched). */
export class HeldBatches {
  constructor(
    private readonly store: RosterStore,
    private readonly processor: ChangesetProcessor,
    private readonly now: () => Date = () => new Date(),
  ) {}

  async get(tenantId: string, batchId: string): Promise<HeldBatchDoc> {
    const batch = await this.store.heldBatch(tenantId, batchId);
    if (batch === null) throw RosterErrors.ROSTER_HELD_BATCH_NOT_FOUND({ batchId });
    return batch;
  }

  /**
   * Approves a pending batch: records who/when/why, then applies its removals (still-active entities
   * only) through an approval changeset with reason `approved_held_batch`. Retrying an approved
   * batch resumes that changeset and changes nothing else. Waits for a school another replica is
   * processing (bounded; then `ROSTER_TENANT_BUSY`).
   */
  approve(
    tenantId: string,
    batchId: string,
    actor: string | undefined,
    comment: string,
  ): Promise<HeldBatchDoc> {
    return this.processor.withTenant(tenantId, async (lease) => {
      let batch = await this.get(tenantId, batchId);
      if (batch.status !== 'pending' && batch.status !== 'approved') {
        throw RosterErrors.ROSTER_HELD_BATCH_NOT_PENDING({ batchId, status: batch.status });
      }
      const changesetId = ids.changeset(tenantId, batch.syncRunId, 'approval');
      if (batch.status === 'pending') {
        const decidedAt = this.now();
        await this.store.setById(
          COLLECTIONS.heldBatches,
          tenantId,
          batch._id,
          {
            status: 'approved',
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
          dryRun: false,
          ...(source?.marker === undefined ? {} : { marker: source.marker }),
          receivedAt: batch.decidedAt ?? this.now(),
          processedAt: batch.decidedAt ?? this.now(),
          ...(batch.decidedBy === undefined ? {} : { approvedBy: batch.decidedBy }),
        },
        lease.fence,
      );
      await this.processor.advanceLocked(tenantId, changesetId, lease);
      return batch;
    });
  }

  /** Discards a pending batch: nobody is removed; a record still absent at the next run is held again. */
  discard(
    tenantId: string,
    batchId: string,
    actor: string | undefined,
    comment: string,
  ): Promise<HeldBatchDoc> {
    return this.processor.withTenant(tenantId, async (lease) => {
      const batch = await this.get(tenantId, batchId);
      if (batch.status === 'discarded') return batch;
      if (batch.status !== 'pending')
        throw RosterErrors.ROSTER_HELD_BATCH_NOT_PENDING({ batchId, status: batch.status });
      await this.store.setById(
        COLLECTIONS.heldBatches,
        tenantId,
        batch._id,
        {
          status: 'discarded',
          decidedAt: this.now(),
          comment,
          ...(actor === undefined ? {} : { decidedBy: actor }),
        },
        lease.fence,
      );
      return this.get(tenantId, batchId);
    });
  }
}
