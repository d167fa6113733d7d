import { describe, expect, it } from 'vitest';
import { stagedChunksFate } from '../../src/domain/staged-chunk-retention';
import type { StagedRun } from '../../src/domain/staged-chunk-retention';

const at = (iso: string) => new Date(iso);
// A sweep at 10:00 with a 30-minute retention and 14 days for dry runs.
const cutoffs = { chunksBefore: at('2026-11-30T09:30:00Z'), dryRunsBefore: at('2026-11-16T10:00:00Z') };
const old = at('2026-11-30T09:00:00Z');
const run = (changeset: StagedRun['changeset'], newestChunkAt = old): StagedRun => ({
  newestChunkAt,
  changeset,
});

describe('what becomes of a run’s staged chunks at a sweep', () => {
  it('a run that got a chunk within the retention keeps them, whatever its changeset (its marker may still come)', () => {
    for (const cs of [null, { finished: true, dryRun: false }, { finished: true, dryRun: true }])
      expect(stagedChunksFate(run(cs, at('2026-11-30T09:30:00Z')), cutoffs)).toEqual({
        drop: false,
        reason: 'recent',
      });
  });

  it('a run without a changeset (no marker) whose newest chunk is older than the retention drops them', () => {
    expect(stagedChunksFate(run(null, at('2026-11-30T09:29:59.999Z')), cutoffs)).toEqual({
      drop: true,
      reason: 'no_marker',
    });
  });

  it('an unfinished changeset keeps them: it drops them when done, or fails as incomplete and then drops them', () => {
    expect(stagedChunksFate(run({ finished: false, dryRun: false }), cutoffs)).toEqual({
      drop: false,
      reason: 'run_in_progress',
    });
    expect(stagedChunksFate(run({ finished: false, dryRun: true }), cutoffs).drop).toBe(false);
  });

  it('a finished real run drops them (chunks staged again after it dropped its own)', () => {
    expect(
      stagedChunksFate(
        run({ finished: true, dryRun: false, completedAt: at('2026-11-30T09:00:00Z') }),
        cutoffs,
      ),
    ).toEqual({ drop: true, reason: 'run_finished' });
  });

  it('a finished dry run keeps them for its preview until its changeset is pruned (REMOVAL_GRACE_DAYS)', () => {
    expect(
      stagedChunksFate(
        run({ finished: true, dryRun: true, completedAt: at('2026-11-16T10:00:00Z') }),
        cutoffs,
      ),
    ).toEqual({ drop: false, reason: 'dry_run_preview' });
    expect(
      stagedChunksFate(
        run({ finished: true, dryRun: true, completedAt: at('2026-11-16T09:59:59.999Z') }),
        cutoffs,
      ),
    ).toEqual({ drop: true, reason: 'dry_run_expired' });
    // Never pruned by age either (no completion time): nothing keeps them.
    expect(stagedChunksFate(run({ finished: true, dryRun: true }), cutoffs)).toEqual({
      drop: true,
      reason: 'dry_run_expired',
    });
  });
});
