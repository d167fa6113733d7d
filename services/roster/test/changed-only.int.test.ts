import { describe, expect, it, vi } from 'vitest';
import { uniqueName } from '@isams-sync/testing';
import { useStartedRoster } from './support/started-roster';
import { runFinished, storedRoster } from './support/harness';
import { miniSchool } from './support/mini-school';
import { publishSnapshot } from './support/school-feed';

const roster = useStartedRoster();

/**
 * The roster reads the manifest and only the images that can differ, and writes only what changed
 * (docs/roster-model.md › Persistence).
 */
describe('a resync reads and writes only what changed', { timeout: 240_000 }, () => {
  it('no change: no image read, nothing written; one update + one removal: those two written, and read unless in hand', async () => {
    const t = uniqueName('school');
    const run = async (runId: string, school: ReturnType<typeof miniSchool>) => {
      await publishSnapshot(roster.h.producer, roster.h.topics.raw, t, runId, school);
      return runFinished(roster.app, t, runId);
    };
    expect((await run('seed', miniSchool(40))).outcome).toBe('applied');
    const seeded = await storedRoster(roster.app.store, t);

    const reads = vi.spyOn(roster.app.store, 'entityDocs');
    const writes = vi.spyOn(roster.app.store, 'putEntities');
    const manifestWrites = vi.spyOn(roster.app.store, 'updateManifest');
    try {
      expect(await run('same', miniSchool(40))).toMatchObject({ outcome: 'applied', changeCount: 0 });
      const read = reads.mock.calls.flatMap((c) => [...c[2]]);
      expect(read).toEqual([]);
      expect(writes).not.toHaveBeenCalled();
      expect(manifestWrites).not.toHaveBeenCalled();
      expect(await storedRoster(roster.app.store, t)).toEqual(seeded);

      // The images of the two that differ are in this process's hand (it applied them): nothing read.
      reads.mockClear();
      let cs = await run('one-each', miniSchool(40, { without: [7], renamed: { 3: 'Renamed' } }));
      expect(cs).toMatchObject({ outcome: 'applied', changeCount: 2 });
      expect(reads.mock.calls.flatMap((c) => [...c[2]])).toEqual([]);
      // Without them (a restarted process, another replica): the diff reads exactly the two images that differ.
      roster.app.memory.images.forget(t);
      writes.mockClear();
      manifestWrites.mockClear();
      cs = await run(
        'one-each-again',
        miniSchool(40, { without: [7, 8], renamed: { 3: 'Renamed', 4: 'Renamed' } }),
      );
      expect(cs).toMatchObject({ outcome: 'applied', changeCount: 2 });
      const readIds = reads.mock.calls.flatMap((c) => [...c[2]].map((id) => `${c[1]}/${id}`));
      expect([...new Set(readIds)].sort()).toEqual(['pupil/4', 'pupil/8']);
      expect(writes).toHaveBeenCalledTimes(1);
      expect(writes.mock.calls[0]![0].map((d) => `${d.entityType}/${d.entityId}`).sort()).toEqual([
        'pupil/4',
        'pupil/8',
      ]);
      expect(
        manifestWrites.mock.calls[0]![1].map((u) => `${u.entityType}/${u.entry.id}:${u.entry.status}`).sort(),
      ).toEqual(['pupil/4:active', 'pupil/8:removed']);
    } finally {
      reads.mockRestore();
      writes.mockRestore();
      manifestWrites.mockRestore();
    }
    expect(await roster.app.store.entity(t, 'pupil', '3')).toMatchObject({ data: { surname: 'Renamed' } });
    expect(await roster.app.store.entity(t, 'pupil', '4')).toMatchObject({ data: { surname: 'Renamed' } });
    expect(await roster.app.store.entity(t, 'pupil', '7')).toMatchObject({ status: 'removed' });
    const manifest = (await roster.app.store.loadManifest(t)).pupil!;
    expect(manifest.get('7')?.status).toBe('removed');
    expect(manifest.get('8')?.status).toBe('removed');
    expect([...manifest.values()].filter((e) => e.status === 'active')).toHaveLength(38);
  });
});
