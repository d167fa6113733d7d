import { hash as hashText } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, uniqueName } from '@isams-sync/testing';
import type { TestDatabase } from '@isams-sync/testing';
import { longIds } from '../support/long-ids';
import { COLLECTIONS, RosterStore } from '../../src/adapters/mongo/roster-store';
import type { ManifestEntry } from '../../src/use-cases/records';

// The largest manifest chunk the parser's limits admit (docs/roster-model.md › The stored roster):
// 500,000 records of one dataset, ids of ID_MAX_CHARS (200) UTF-16 code units that do not compress
// (forms are keyed by their name, any text), all falling in one chunk. The measured worst case is
// ~470 packed bytes an entry: a chunk passes MongoDB's/FerretDB's 16 MiB document limit from
// ~36,000 such entries.

const BSON_MAX = 16 * 1024 * 1024;

let db: TestDatabase;
let store: RosterStore;

beforeAll(async () => {
  db = await createTestDatabase('roster_manifest_size');
  store = new RosterStore(db.db);
  await store.init();
});
afterAll(async () => db?.drop());

const entryOf = (id: string, status: ManifestEntry['status'] = 'active'): ManifestEntry => ({
  id,
  hash: hashText('sha1', `image of ${id}`, 'base64url'),
  status,
});

describe('a manifest chunk past the 16 MiB document limit (integration)', { timeout: 300_000 }, () => {
  it('is stored in documents under the limit and read back whole; a rewrite of it changes only what changed', async () => {
    const t = uniqueName('t');
    const ids = longIds(40_000, 0);
    await store.updateManifest(
      t,
      ids.map((id) => ({ entityType: 'form', entry: entryOf(id) })),
    );
    const stored = await db.db
      .collection(COLLECTIONS.entityManifests)
      .find({ tenantId: t }, { projection: { packed: 1, chunk: 1 } })
      .toArray();
    const sizes = stored.map((d) => (d.packed as { length(): number }).length());
    console.info(
      `manifest chunk of 40,000 long ids: ${sizes.join(' + ')} packed bytes in ${stored.length} documents`,
    );
    expect(sizes.reduce((a, b) => a + b, 0)).toBeGreaterThan(BSON_MAX);
    for (const s of sizes) expect(s).toBeLessThan(BSON_MAX);

    const manifest = await store.loadManifest(t);
    expect(manifest.form?.size).toBe(ids.length);
    expect(manifest.form?.get(ids[123]!)).toEqual(entryOf(ids[123]!));

    await store.updateManifest(
      t,
      [{ entityType: 'form', entry: entryOf(ids[7]!, 'removed') }],
      undefined,
      manifest,
    );
    const after = await store.loadManifest(t);
    expect(after.form?.size).toBe(ids.length);
    expect(after.form?.get(ids[7]!)?.status).toBe('removed');
    expect([...after.form!.values()].filter((e) => e.status === 'active')).toHaveLength(ids.length - 1);
  });
});
