import type { Logger } from '@isams-sync/logger';
import { stagedChunksFate } from '../domain/staged-chunk-retention';
import type { StagedChunksFate } from '../domain/staged-chunk-retention';
import type { ChangesetProcessor } from './changeset-processor';
import type { StagedChunkMemory } from './process-memory';
import type { ChangesetStore } from './ports';
import { ids } from './records';

const DAY_MS = 86_400_000;

/** A run whose staged chunks a sweep dropped, and why. */
export interface DroppedRun {
  tenantId: string;
  syncRunId: string;
  reason: Extract<StagedChunksFate, { drop: true }>['reason'];
}

export interface StagedChunkSweeperDeps {
  store: Pick<ChangesetStore, 'runsStagedBefore' | 'newestChunkAt' | 'getChangeset' | 'dropChunks'>;
  processor: Pick<ChangesetProcessor, 'tryWithTenant'>;
  logger: Logger;
  /** INCOMPLETE_RUN_TIMEOUT_MS: chunks of a run that got none for this long may be dropped. */
  retentionMs: number;
  /** REMOVAL_GRACE_DAYS: how long a finished dry run keeps its chunks (as long as its changeset). */
  graceDays: number;
  /** What this process keeps in hand of staged chunks (a dropped run is forgotten there too). */
  memory?: StagedChunkMemory;
  /** Chunk receipts read per query. */
  batchSize?: number;
}

/**
 * Drops the staged chunks (and receipts) no run will read: a run's chunks are dropped by the run
 * itself when its changeset is done, but a run whose marker never came gets no changeset, and
 * chunks staged again after their run finished belong to none (`stagedChunksFate`). A run is judged
 * from cheap reads first; only one to drop takes the school's lease, is judged again under it and
 * dropped under its fence, so no changeset of the school is being planned meanwhile.
 */
export class StagedChunkSweeper {
  constructor(private readonly deps: StagedChunkSweeperDeps) {}

  /**
   * One sweep at `at`: reads the runs with a chunk older than the retention, a batch at a time
   * (leaving out those already judged, so runs kept do not hide the others), and drops what
   * `stagedChunksFate` says. A school another replica holds is left to a later sweep.
   */
  async dropAbandoned(at: Date): Promise<DroppedRun[]> {
    const cutoffs = {
      chunksBefore: new Date(at.getTime() - this.deps.retentionMs),
      dryRunsBefore: new Date(at.getTime() - this.deps.graceDays * DAY_MS),
    };
    // Run ids are UUIDs: leaving one out by its id alone leaves out no other school's run.
    const judged = new Set<string>();
    const kept: string[] = [];
    const dropped: DroppedRun[] = [];
    for (;;) {
      const runs = (
        await this.deps.store.runsStagedBefore(cutoffs.chunksBefore, this.deps.batchSize ?? 500, kept)
      ).filter((r) => !judged.has(r.syncRunId));
      if (runs.length === 0) break;
      for (const run of runs) {
        judged.add(run.syncRunId);
        const reason = await this.dropIfAbandoned(run.tenantId, run.syncRunId, cutoffs);
        if (reason === undefined) kept.push(run.syncRunId);
        else dropped.push({ ...run, reason });
      }
    }
    if (dropped.length > 0) {
      const byReason: Partial<Record<DroppedRun['reason'], number>> = {};
      for (const d of dropped) byReason[d.reason] = (byReason[d.reason] ?? 0) + 1;
      this.deps.logger.info({ runs: dropped.length, ...byReason }, 'staged chunks of abandoned runs dropped');
    }
    return dropped;
  }

  private async dropIfAbandoned(
    tenantId: string,
    syncRunId: string,
    cutoffs: { chunksBefore: Date; dryRunsBefore: Date },
  ): Promise<DroppedRun['reason'] | undefined> {
    const fate = async () => {
      const newestChunkAt = await this.deps.store.newestChunkAt(tenantId, syncRunId);
      if (newestChunkAt === null) return undefined;
      const cs = await this.deps.store.getChangeset(tenantId, ids.changeset(tenantId, syncRunId));
      return stagedChunksFate(
        {
          newestChunkAt,
          changeset:
            cs === null
              ? null
              : {
                  finished: cs.state === 'done' || cs.state === 'failed',
                  dryRun: cs.dryRun,
                  ...(cs.completedAt === undefined ? {} : { completedAt: cs.completedAt }),
                },
        },
        cutoffs,
      );
    };
    if ((await fate())?.drop !== true) return undefined;
    let reason: DroppedRun['reason'] | undefined;
    await this.deps.processor.tryWithTenant(tenantId, async (lease) => {
      const decided = await fate();
      if (decided?.drop !== true) return;
      await this.deps.store.dropChunks(tenantId, syncRunId, lease.fence);
      this.deps.memory?.forgetRun(tenantId, syncRunId);
      reason = decided.reason;
      this.deps.logger.debug({ tenantId, syncRunId, reason }, 'staged chunks dropped');
    });
    return reason;
  }
}
