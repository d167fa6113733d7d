import type { DatasetId } from '@isams-sync/isams';
import { describe, expect, it } from 'vitest';
import type { RunDatasetStats } from '../../src/domain/sync-run';
import { ChunkPublishing } from '../../src/use-cases/chunk-publishing';
import type { Spool } from '../../src/use-cases/ports';

const ds = (datasetId: DatasetId, fingerprint: string, chunkCount = 1): RunDatasetStats => ({
  datasetId,
  present: true,
  recordCount: chunkCount,
  bytes: 10 * chunkCount,
  chunkCount,
  chunkRecords: Array.from({ length: chunkCount }, () => 1),
  fingerprint,
});

/**
 * A ChunkPublishing whose publishes are recorded and each held until `release()`d (or all go through
 * once `openGate()`), beside a log of what happened to the spool.
 */
function harness(differs: (d: RunDatasetStats) => boolean = () => true) {
  const calls: { datasets: string[]; prefix: boolean }[] = [];
  const log: string[] = [];
  const held: (() => void)[] = [];
  let open = false;
  let failNext: Error | undefined;
  const abort = new AbortController();
  const chunks = new ChunkPublishing({
    publish: async (datasets, { prefix }) => {
      const names = datasets.map((d) => `${d.datasetId}@${d.fingerprint}`);
      calls.push({ datasets: names, prefix });
      log.push(`publish ${names.join(',')}`);
      if (!open) await new Promise<void>((resolve) => held.push(resolve));
      if (failNext) throw failNext;
      log.push(`published ${names.join(',')}`);
    },
    differs,
    signal: abort.signal,
  });
  const spool = {
    reset: async () => void log.push('spool reset'),
    discard: async (ids: readonly DatasetId[]) => void log.push(`spool discard ${ids.join(',')}`),
    remove: async () => void log.push('spool remove'),
  } as unknown as Spool;
  return {
    chunks,
    calls,
    log,
    abort,
    spool: chunks.guard(spool),
    /** Lets the publish in flight finish (waiting for it to begin). */
    release: async () => {
      while (held.length === 0) await new Promise((resolve) => setImmediate(resolve));
      held.shift()!();
    },
    openGate: () => (open = true),
    failWith: (err: Error) => (failNext = err),
  };
}

describe('ChunkPublishing: a run publishes its datasets while its document is still being read', () => {
  it('holds the datasets read until one differs from the applied snapshot, then publishes them and each one after as it is read', async () => {
    const h = harness((d) => d.fingerprint !== 'same');
    h.openGate();
    h.chunks.read(ds('currentStaff', 'same'));
    h.chunks.read(ds('yearGroups', 'same'));
    await h.chunks.settled();
    expect(h.calls).toEqual([]);
    expect(h.chunks.began).toBe(false);
    h.chunks.read(ds('currentPupils', 'changed'));
    h.chunks.read(ds('contacts', 'same'));
    await h.chunks.settled();
    expect(h.chunks.began).toBe(true);
    expect(h.calls).toEqual([
      { datasets: ['currentStaff@same', 'yearGroups@same', 'currentPupils@changed'], prefix: true },
      { datasets: ['contacts@same'], prefix: true },
    ]);
    // After the fetch only what was not published yet goes out (here: the dataset read last).
    await h.chunks.finish([
      ds('currentStaff', 'same'),
      ds('yearGroups', 'same'),
      ds('currentPupils', 'changed'),
      ds('contacts', 'same'),
      ds('teachingSets', 'same'),
    ]);
    expect(h.calls.at(-1)).toEqual({ datasets: ['teachingSets@same'], prefix: false });
    expect(h.calls).toHaveLength(3);
  });

  it('publishes nothing while the document is read when no dataset differs; after the fetch, everything', async () => {
    const h = harness(() => false);
    h.openGate();
    h.chunks.read(ds('currentStaff', 'a'));
    await h.chunks.settled();
    expect(h.calls).toEqual([]);
    await h.chunks.finish([ds('currentStaff', 'a'), ds('yearGroups', 'b')]);
    expect(h.calls).toEqual([{ datasets: ['currentStaff@a', 'yearGroups@b'], prefix: false }]);
  });

  it('a dataset that changed after it was published (a later container of it) is published again as it ended', async () => {
    const h = harness();
    h.openGate();
    h.chunks.read(ds('currentPupils', 'first-container', 2));
    await h.chunks.settled();
    await h.chunks.finish([ds('currentPupils', 'both-containers', 3)]);
    expect(h.calls).toEqual([
      { datasets: ['currentPupils@first-container'], prefix: true },
      { datasets: ['currentPupils@both-containers'], prefix: false },
    ]);
  });

  it("the spool's files are reset or discarded only once the publishing reading them has ended", async () => {
    const h = harness();
    h.chunks.read(ds('currentStaff', 'a'));
    // A whole-key fetch that failed part-way is fetched again in groups: the spool is reset.
    const reset = h.spool.reset();
    await h.release();
    await reset;
    expect(h.log).toEqual(['publish currentStaff@a', 'published currentStaff@a', 'spool reset']);
    h.chunks.read(ds('yearGroups', 'b'));
    const discarded = h.spool.discard(['yearGroups']);
    await h.release();
    await discarded;
    expect(h.log.slice(3)).toEqual([
      'publish yearGroups@b',
      'published yearGroups@b',
      'spool discard yearGroups',
    ]);
  });

  it('a failed publish stops the publishing and is thrown after the fetch; the run does not end with it unnoticed', async () => {
    const h = harness();
    h.failWith(new Error('broker gone'));
    h.openGate();
    h.chunks.read(ds('currentStaff', 'a'));
    h.chunks.read(ds('yearGroups', 'b'));
    await h.chunks.settled();
    expect(h.calls).toHaveLength(1);
    await expect(h.chunks.finish([ds('currentStaff', 'a'), ds('yearGroups', 'b')])).rejects.toThrow(
      'broker gone',
    );
    expect(h.calls).toHaveLength(1);
  });

  it('once the run ends (its spool removed) or is aborted, nothing queued is published', async () => {
    const h = harness();
    h.chunks.read(ds('currentStaff', 'a'));
    h.chunks.read(ds('yearGroups', 'b'));
    // The publish in flight ends; the one queued behind it does not begin.
    await new Promise((resolve) => setImmediate(resolve));
    const removed = h.spool.remove();
    await h.release();
    await removed;
    expect(h.log).toEqual(['publish currentStaff@a', 'published currentStaff@a', 'spool remove']);

    const aborted = harness();
    aborted.openGate();
    aborted.abort.abort(new Error('lease lost'));
    aborted.chunks.read(ds('currentStaff', 'a'));
    await aborted.chunks.settled();
    expect(aborted.calls).toEqual([]);
    await expect(aborted.chunks.finish([ds('currentStaff', 'a')])).rejects.toThrow('lease lost');
  });
});
