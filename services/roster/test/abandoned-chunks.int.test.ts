import { describe, expect, it } from 'vitest';
import { eventually, uniqueName } from '@isams-sync/testing';
import { COLLECTIONS } from '../src/adapters/mongo/roster-store';
import { runFinished } from './support/harness';
import { miniSchool } from './support/mini-school';
import { snapshotEvents } from './support/school-feed';
import { useStartedRoster } from './support/started-roster';

const roster = useStartedRoster();
const MIN = 60_000;

/** Staged chunks and receipts of a run, as the database holds them. */
async function staged(tenantId: string, syncRunId: string): Promise<{ chunks: number; receipts: number }> {
  const db = roster.h.db.db;
  return {
    chunks: await db.collection(COLLECTIONS.rawChunks).countDocuments({ tenantId, syncRunId }),
    receipts: await db.collection(COLLECTIONS.chunkReceipts).countDocuments({ tenantId, syncRunId }),
  };
}

describe('staged chunks of a run whose run-complete marker never came', () => {
  it('the sweep drops them once the newest is older than INCOMPLETE_RUN_TIMEOUT_MS; a marker after that fails as incomplete', async () => {
    const t = uniqueName('school');
    const { chunks, marker } = snapshotEvents(t, 'abandoned', miniSchool(12), { chunkSize: 5 });
    await roster.h.producer.publish(roster.h.topics.raw, chunks);
    const all = await eventually(async () => {
      const s = await staged(t, 'abandoned');
      return s.receipts === chunks.length ? s : undefined;
    }, 'the chunks to be staged');
    expect(all).toEqual({ chunks: chunks.length, receipts: chunks.length });

    await roster.app.sweep(new Date(Date.now() + 25 * MIN));
    expect(await staged(t, 'abandoned')).toEqual(all);

    await roster.app.sweep(new Date(Date.now() + 31 * MIN));
    expect(await staged(t, 'abandoned')).toEqual({ chunks: 0, receipts: 0 });

    // The marker comes after all: the run waits for chunks that are gone and times out.
    await roster.h.producer.publish(roster.h.topics.raw, [marker]);
    const waiting = await eventually(
      () => roster.app.store.getChangeset(t, `${t}|abandoned`),
      'the late marker to be registered',
    );
    expect(waiting.state).toBe('waiting');
    await roster.app.sweep(new Date(Date.now() + 31 * MIN));
    expect(await runFinished(roster.app, t, 'abandoned')).toMatchObject({
      outcome: 'failed',
      error: { code: 'ROSTER_RUN_TIMED_OUT' },
    });
    expect((await roster.app.store.loadStored(t)).activeCounts).toEqual({});
  });

  it('a dry run keeps its chunks for its preview after the sweep', async () => {
    const t = uniqueName('school');
    await roster.publish(t, 'dry', miniSchool(12), { dryRun: true });
    expect(await runFinished(roster.app, t, 'dry')).toMatchObject({ dryRun: true, outcome: 'applied' });
    await roster.app.sweep(new Date(Date.now() + 31 * MIN));
    expect((await staged(t, 'dry')).chunks).toBeGreaterThan(0);
    expect(await roster.rpc.call('dryRunSnapshot')({ syncRunId: 'dry' }, t)).toMatchObject({
      changeCount: expect.any(Number),
    });
  });
});
