import { describe, expect, it } from 'vitest';
import { createLogger } from '@isams-sync/logger';
import type { ChangesetStore, RosterPublisher } from '../../src/use-cases/ports';
import type { ChangesetProcessor } from '../../src/use-cases/changeset-processor';
import { GraceSweeper } from '../../src/use-cases/grace-sweeper';

// Pure unit test of the throttle: the store stub only counts the (collection-scanning) queries.
describe('GraceSweeper.pruneOldChangesets', () => {
  it('queries at most once an hour, whatever the sweep interval', async () => {
    let queries = 0;
    const store = {
      finishedBefore: async () => {
        queries += 1;
        return [];
      },
      decidedBatchesBefore: async () => {
        queries += 1;
        return [];
      },
    } as unknown as ChangesetStore;
    const sweeper = new GraceSweeper(
      store,
      {} as RosterPublisher,
      {} as ChangesetProcessor,
      createLogger({ service: 'roster-test', level: 'silent' }),
      14,
    );
    const t0 = Date.parse('2026-11-29T10:00:00Z');
    await sweeper.pruneOldChangesets(new Date(t0));
    await sweeper.pruneOldChangesets(new Date(t0 + 60_000));
    await sweeper.pruneOldChangesets(new Date(t0 + 59 * 60_000));
    // One prune: the old changesets and the decided batches, one query each.
    expect(queries).toBe(2);
    await sweeper.pruneOldChangesets(new Date(t0 + 60 * 60_000));
    expect(queries).toBe(4);
  });
});
