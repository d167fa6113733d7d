/**
 * A run with staged raw chunks, as the sweep sees it: when its newest chunk was staged, and its
 * changeset (null: its run-complete marker never came).
 */
export interface StagedRun {
  newestChunkAt: Date;
  changeset: { finished: boolean; dryRun: boolean; completedAt?: Date } | null;
}

/** What becomes of a run's staged chunks at a sweep, and why. */
export type StagedChunksFate =
  | {
      drop: false;
      /**
       * `recent`: a chunk came within the retention (the run may still be publishing, its marker may
       * still come); `run_in_progress`: its changeset drops them when done, or fails as incomplete
       * and then drops them; `dry_run_preview`: a finished dry run's preview reads them while its
       * changeset is kept.
       */
      reason: 'recent' | 'run_in_progress' | 'dry_run_preview';
    }
  | {
      drop: true;
      /**
       * `no_marker`: the marker never came (a fetch that failed part-way, a publish cut off, a
       * dataset version abandoned with its run); `run_finished`: staged again after the finished run
       * dropped its own (a redelivery); `dry_run_expired`: the dry run's changeset is as old as the
       * ones the sweep prunes.
       */
      reason: 'no_marker' | 'run_finished' | 'dry_run_expired';
    };

/**
 * The chunks of a run are kept while anything may still read them, and dropped otherwise (they hold
 * personal data). `chunksBefore`: now less INCOMPLETE_RUN_TIMEOUT_MS; `dryRunsBefore`: now less
 * REMOVAL_GRACE_DAYS (the age at which finished changesets are pruned).
 */
export function stagedChunksFate(
  run: StagedRun,
  cutoffs: { chunksBefore: Date; dryRunsBefore: Date },
): StagedChunksFate {
  if (run.newestChunkAt.getTime() >= cutoffs.chunksBefore.getTime()) return { drop: false, reason: 'recent' };
  const cs = run.changeset;
  if (cs === null) return { drop: true, reason: 'no_marker' };
  if (!cs.finished) return { drop: false, reason: 'run_in_progress' };
  if (!cs.dryRun) return { drop: true, reason: 'run_finished' };
  return cs.completedAt !== undefined && cs.completedAt.getTime() >= cutoffs.dryRunsBefore.getTime()
    ? { drop: false, reason: 'dry_run_preview' }
    : { drop: true, reason: 'dry_run_expired' };
}
