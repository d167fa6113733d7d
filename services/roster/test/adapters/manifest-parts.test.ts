import { describe, expect, it } from 'vitest';
import { unpackJson } from '@isams-sync/mongo';
import {
  layoutChunk,
  mergeParts,
  partOf,
  storedChunkOf,
  writeWaves,
} from '../../src/adapters/mongo/manifest-parts';
import type { ManifestEntry } from '../../src/use-cases/records';

// A manifest chunk too large for one document is stored in parts (docs/roster-model.md › The stored
// roster). What must hold: every part fits; a crash at any point of a write loses no entry and
// leaves none with a value it never had; the rewrite after the crash ends as the write without it.

const entry = (i: number, hash = `h${i}`, status: ManifestEntry['status'] = 'active'): ManifestEntry => ({
  id: `entity-${String(i).padStart(5, '0')}-${'x'.repeat(i % 7)}`,
  hash: `${hash}-${'q'.repeat(20)}${(i * 7919) % 104729}`,
  status,
});
const sorted = (list: ManifestEntry[]) => [...list].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
/** The chunk's stored documents, by stored chunk number (key), as the store keeps them. */
type Stored = Map<number, { level: number; entries: ManifestEntry[] }>;
const storedOf = (parts: ReturnType<typeof layoutChunk>, into: Stored = new Map()): Stored => {
  for (const p of parts)
    into.set(storedChunkOf(0, p.part), { level: p.level, entries: unpackJson<ManifestEntry[]>(p.packed) });
  return into;
};
const levelOf = (stored: Stored) => Math.max(...[...stored.values()].map((d) => d.level));
const MAX = 2_000;

describe('manifest chunk parts', () => {
  it('a chunk that fits stays one document (level 0: the stored manifests of before)', () => {
    const parts = layoutChunk(sorted([1, 2, 3].map((i) => entry(i))), 0, MAX);
    expect(parts.map((p) => [p.part, p.level])).toEqual([[0, 0]]);
  });

  it('a larger chunk is split by a second hash of the id into parts that each fit, and never merged back', () => {
    const all = sorted(Array.from({ length: 400 }, (_, i) => entry(i)));
    const parts = layoutChunk(all, 0, MAX);
    const level = parts[0]!.level;
    expect(level).toBeGreaterThan(0);
    expect(parts).toHaveLength(1 << level);
    for (const p of parts) {
      expect(p.packed.length()).toBeLessThanOrEqual(MAX);
      for (const e of p.entries) expect(partOf(e.id, level)).toBe(p.part);
    }
    expect([...mergeParts(parts).values()]).toHaveLength(400);
    // Fewer entries later: still at the level stored (a lower one would leave stale parts behind).
    expect(layoutChunk(all.slice(0, 3), level, MAX)[0]!.level).toBe(level);
  });

  it('a write cut off after any document loses no entry, and the rewrite after it ends as the write without the crash', () => {
    const before = sorted(Array.from({ length: 150 }, (_, i) => entry(i)));
    // The run: 60 updated, 500 added — the chunk grows by several levels.
    const updates = [
      ...Array.from({ length: 60 }, (_, i) => entry(i * 2, 'new', 'removed')),
      ...Array.from({ length: 500 }, (_, i) => entry(1000 + i, 'added')),
    ];
    const after = new Map(before.map((e) => [e.id, e]));
    for (const u of updates) after.set(u.id, u);
    const initial = storedOf(layoutChunk(before, 0, MAX));
    const write = (stored: Stored, content: Map<string, ManifestEntry>) =>
      writeWaves(layoutChunk(sorted([...content.values()]), levelOf(stored), MAX));
    const waves = write(initial, after);
    expect(waves.length).toBeGreaterThan(2);
    const clean = storedOf(waves.flat(), new Map(initial));

    const orders = [waves.flat(), waves.flatMap((w) => [...w].reverse())];
    for (const order of orders)
      for (let cut = 0; cut <= order.length; cut += 1) {
        const crashed = storedOf(order.slice(0, cut), new Map(initial));
        const seen = mergeParts([...crashed.values()]);
        for (const e of before) expect([e, after.get(e.id)]).toContainEqual(seen.get(e.id));
        // What the cut-off write stored is what is read (not an older copy left in a part not yet rewritten).
        for (const p of order.slice(0, cut)) for (const e of p.entries) expect(seen.get(e.id)).toEqual(e);
        for (const [id, e] of seen)
          expect([after.get(id), before.find((b) => b.id === id)]).toContainEqual(e);
        // The `applying` step again: the manifest as read, the same updates, written whole.
        const rerun = mergeParts([...crashed.values()]);
        for (const u of updates) rerun.set(u.id, u);
        const resumed = storedOf(write(crashed, rerun).flat(), new Map(crashed));
        expect(resumed).toEqual(clean);
      }
    expect(mergeParts([...clean.values()])).toEqual(
      new Map(sorted([...after.values()]).map((e) => [e.id, e])),
    );
  });
});
