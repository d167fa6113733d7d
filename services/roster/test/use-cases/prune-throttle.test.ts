import { describe, expect, it } from 'vitest';
import { createLogger } from '@isams-sync/logger';
import type { RosterStore } from '../../src/adapters/mongo/roster-store';
import type { RosterPublisher } from '../../src/adapters/kafka/roster-publisher';
import type { ChangesetProcessor } from '../../src/use-cases/changeset-processor';
import { GraceSweeper } from '../../src/use-cases/grace-sweeper';

// Pure unit test of the throttle: the store stub only counts the (collection-scanning) queries.
describe('GraceSweeper.pruneOldChangesets', () => {
  it('queries at most once an hour, whatever the sweep interval', async () => {
    let queries = 0;
    const store = {
      db: {
        collection: () => ({
          find: () => ({
            limit: () => ({
              toArray: async () => {
                queries += 1;
                return [];
              },
            }),
          }),
        }),
      },
    } as unknown as RosterStore;
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
    expect(queries).toBe(1);
    await sweeper.pruneOldChangesets(new Date(t0 + 60 * 60_000));
    expect(queries).toBe(2);
  });
});
