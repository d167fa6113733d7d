import { hash as hashText } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { MongoErrors } from '@isams-sync/mongo';
import { createTestDatabase, uniqueName } from '@isams-sync/testing';
import type { TestDatabase } from '@isams-sync/testing';
import { chunkOf } from '../../src/adapters/mongo/documents';
import { partOf } from '../../src/adapters/mongo/manifest-parts';
import type * as ManifestParts from '../../src/adapters/mongo/manifest-parts';
import { COLLECTIONS, RosterStore } from '../../src/adapters/mongo/roster-store';
import type { ManifestEntry } from '../../src/use-cases/records';
import { testLease } from '../support/test-lease';

// The parts of a manifest chunk under two holders of the school's lease. The store's
// part limit is lowered to 4,000 packed bytes so that a few hundred entries make a split chunk
// (the same code path as 8 MiB; only `maxBytes` differs).
vi.mock('../../src/adapters/mongo/manifest-parts', async (importOriginal) => {
  const actual = await importOriginal<typeof ManifestParts>();
  return {
    ...actual,
    layoutChunk: (entries: Parameters<typeof actual.layoutChunk>[0], minLevel: number) =>
      actual.layoutChunk(entries, minLevel, 4_000),
  };
});

let db: TestDatabase;
let store: RosterStore;

beforeAll(async () => {
  db = await createTestDatabase('roster_manifest_holders');
  store = new RosterStore(db.db);
  await store.init();
});
afterAll(async () => db?.drop());

const lease = testLease;

const entryOf = (id: string, status: ManifestEntry['status'] = 'active'): ManifestEntry => ({
  id,
  hash: hashText('sha1', `image of ${id} ${status}`, 'base64url'),
  status,
});
/** `count` pupil ids in manifest chunk 0 (`from` on), optionally only those in odd parts at every level ≥ 1. */
const idsInChunk0 = (count: number, from: number, odd = false): string[] => {
  const out: string[] = [];
  for (let i = from; out.length < count; i += 1) {
    const id = `p${i}`;
    if (chunkOf(id) === 0 && (!odd || partOf(id, 1) === 1)) out.push(id);
  }
  return out;
};

describe('review s54: a stale holder writing parts of a chunk a newer holder rewrote (integration)', () => {
  it('a purge by the newer holder is not undone by the stale holder’s parts at a higher level, nor by the rerun after it', async () => {
    const t = uniqueName('t');
    const { state, fenceOf } = lease(t, 6);
    // The school: a small chunk 0 (one document), X removed and awaiting purge, in an odd part.
    const [x] = idsInChunk0(1, 0, true);
    const small = idsInChunk0(20, 1_000).map((id) => entryOf(id));
    const removedX = entryOf(x!, 'removed');
    await store.updateManifest(
      t,
      [...small, removedX].map((entry) => ({ entityType: 'pupil' as const, entry })),
      fenceOf(6),
    );
    const level0 = await db.db.collection(COLLECTIONS.entityManifests).countDocuments({ tenantId: t });
    expect(level0).toBe(1);

    // Holder A (token 7) applies a run adding 600 pupils to chunk 0: it read the manifest at its start.
    state.current = 7;
    const readByA = await store.loadManifest(t);
    const added = idsInChunk0(600, 100_000).map((id) => ({
      entityType: 'pupil' as const,
      entry: entryOf(id),
    }));

    // A stalls; its lease passes to B (token 8), whose grace sweeper purges X (a one-document chunk still).
    state.current = 8;
    const purgedX: ManifestEntry = {
      id: x!,
      hash: hashText('sha1', `purged ${x}`, 'base64url'),
      status: 'removed',
      purged: true,
    };
    await store.updateManifest(t, [{ entityType: 'pupil', entry: purgedX }], fenceOf(8));
    expect((await store.loadManifest(t)).pupil!.get(x!)).toEqual(purgedX);

    // A resumes between its check and its write (its checks pass): its write must not undo B's.
    state.current = 7;
    const refused = await store.updateManifest(t, added, fenceOf(7), readByA).catch((e: unknown) => e);
    expect(MongoErrors.MONGO_FENCED.is(refused)).toBe(true);
    state.current = 8;
    expect((await store.loadManifest(t)).pupil!.get(x!)).toEqual(purgedX);

    // B then reruns A's `applying` step (the same entries, from the manifest as it reads it).
    await store.updateManifest(t, added, fenceOf(8), await store.loadManifest(t));
    expect((await store.loadManifest(t)).pupil!.get(x!)).toEqual(purgedX);
  });
});

describe('review s54: a growth cut before its last band, then a purge, then the rerun (integration)', () => {
  it('loses no entry and keeps the purge and the run’s changes', async () => {
    const t = uniqueName('t');
    const coll = db.db.collection(COLLECTIONS.entityManifests);
    // X is in part 0 at every level: its newest copy stays in the level-0 document the cut leaves.
    let x = '';
    for (let i = 0; x === ''; i += 1) if (chunkOf(`x${i}`) === 0 && partOf(`x${i}`, 12) === 0) x = `x${i}`;
    const [y] = idsInChunk0(1, 0, true);
    const small = [...idsInChunk0(20, 1_000), y!].map((id) => entryOf(id));
    await store.updateManifest(
      t,
      [...small, entryOf(x, 'removed')].map((entry) => ({ entityType: 'pupil' as const, entry })),
    );
    const beforeRun = await coll.findOne({ tenantId: t });
    expect(beforeRun?.level).toBeUndefined();

    // The run: 600 added, Y removed; the chunk grows by several levels. Cut before the band {0}.
    const run = [...idsInChunk0(600, 100_000).map((id) => entryOf(id)), entryOf(y!, 'removed')].map(
      (entry) => ({
        entityType: 'pupil' as const,
        entry,
      }),
    );
    await store.updateManifest(t, run, undefined, await store.loadManifest(t));
    const level = (await coll.findOne({ _id: beforeRun!._id }))?.level as number;
    expect(level).toBeGreaterThan(1);
    await coll.replaceOne({ _id: beforeRun!._id }, beforeRun!);

    // The grace sweeper purges X (the manifest read by type), then the `applying` step runs again.
    const purgedX: ManifestEntry = { id: x, hash: 'purged', status: 'removed', purged: true };
    await store.updateManifest(t, [{ entityType: 'pupil', entry: purgedX }]);
    await store.updateManifest(t, run, undefined, await store.loadManifest(t));

    const after = (await store.loadManifest(t)).pupil!;
    expect(after.size).toBe(small.length + 1 + 600);
    expect(after.get(x)).toEqual(purgedX);
    expect(after.get(y!)?.status).toBe('removed');
    for (const { entry } of run) expect(after.get(entry.id)).toEqual(entry);
    expect(await coll.countDocuments({ tenantId: t })).toBe(1 << level);
  });
});
