import { hash } from 'node:crypto';
import type { Binary } from 'mongodb';
import { MongoErrors, packJson } from '@isams-sync/mongo';
import type { ManifestEntry } from '../../use-cases/records';
import { MANIFEST_CHUNKS } from './documents';

/**
 * A manifest chunk (`chunkOf`) is stored in 2^level parts, part p of chunk n keyed by the stored
 * chunk number n + MANIFEST_CHUNKS × p (`<tenant>|<type>|m<that>`): level 0 is one document at
 * `m<n>`, the stored manifests of before. A chunk whose packed entries pass MANIFEST_PART_MAX_BYTES
 * is split by a second hash of the id (`partOf`): the parser's limits admit a chunk of ~230 MB
 * packed (500,000 ids of 200 incompressible characters), and a document may have 16 MiB.
 * docs/roster-model.md › The stored roster.
 */

/** A part is split further past this many packed bytes (half the 16 MiB document limit: room for the other fields, and moderate reads). */
export const MANIFEST_PART_MAX_BYTES = 8 * 1024 * 1024;
/** 4,096 parts a chunk; the worst chunk the parser's limits admit needs level 5. */
export const MANIFEST_MAX_LEVEL = 12;

/** The part of `entityId` at `level` (the low `level` bits of its SHA-1: independent of `chunkOf`'s FNV-1a). */
export function partOf(entityId: string, level: number): number {
  if (level === 0) return 0;
  return hash('sha1', entityId, 'buffer').readUInt32BE(0) & ((1 << level) - 1);
}

/** The stored chunk number (and key) of part `part` of chunk `chunk`. */
export const storedChunkOf = (chunk: number, part: number): number => chunk + MANIFEST_CHUNKS * part;

/** The chunk and part a stored chunk number names. */
export const partOfStored = (stored: number): { chunk: number; part: number } => ({
  chunk: stored % MANIFEST_CHUNKS,
  part: Math.floor(stored / MANIFEST_CHUNKS),
});

/** One part of a chunk as it is written: its entries (sorted by id) and their packed form. */
export interface ManifestPart {
  part: number;
  level: number;
  entries: ManifestEntry[];
  packed: Binary;
}

/**
 * Splits a chunk's entries (sorted by id) into the fewest parts, at `minLevel` or above, whose packed
 * form each stays within `maxBytes`. `minLevel` is the highest level the chunk is stored at: a chunk
 * never goes back to fewer parts (`writeWaves` relies on it).
 * @throws AppError `MONGO_INVALID_DOCUMENT` when 2^MANIFEST_MAX_LEVEL parts are not enough (an entry
 * is at most ~1 KB packed: not reachable within the parser's limits).
 */
export function layoutChunk(
  entries: readonly ManifestEntry[],
  minLevel: number,
  maxBytes = MANIFEST_PART_MAX_BYTES,
): ManifestPart[] {
  for (let level = minLevel; ;) {
    const lists: ManifestEntry[][] = Array.from({ length: 1 << level }, () => []);
    for (const e of entries) lists[partOf(e.id, level)]!.push(e);
    const parts = lists.map((list, part) => ({ part, level, entries: list, packed: packJson(list) }));
    const biggest = Math.max(...parts.map((p) => p.packed.length()));
    if (biggest <= maxBytes) return parts;
    if (level >= MANIFEST_MAX_LEVEL)
      throw MongoErrors.MONGO_INVALID_DOCUMENT({
        reason: `a manifest chunk of ${entries.length} entries does not fit in ${1 << level} documents of ${maxBytes} bytes`,
        path: 'entityManifests.entries',
      });
    level = Math.min(MANIFEST_MAX_LEVEL, level + Math.max(1, Math.ceil(Math.log2(biggest / maxBytes))));
  }
}

/**
 * The order in which parts are written so that a crash at any point loses no entry: bands of part
 * numbers from the highest down — [2^(L-1), 2^L), …, [2, 4), {1}, {0} — each band written whole
 * before the next. An entry stored in part k at level l moves to part r ≡ k (mod 2^l) at level
 * L ≥ l, so r ≥ k: its new part is written (in this band or an earlier one) before its old one is
 * overwritten. Within a band, any order (and several writes at once).
 */
export function writeWaves<T extends { part: number }>(parts: readonly T[]): T[][] {
  const bandOf = (part: number): number => (part === 0 ? 0 : 32 - Math.clz32(part));
  const bands = new Map<number, T[]>();
  for (const p of parts) bands.set(bandOf(p.part), [...(bands.get(bandOf(p.part)) ?? []), p]);
  return [...bands.entries()].sort(([a], [b]) => b - a).map(([, list]) => list);
}

/**
 * A chunk's entries from its stored parts, whatever mix of levels a crash or a stale holder left:
 * where an id is in several parts, the entry of the part written under the newest lease (`fence`)
 * wins, and among those of one lease the highest level's (a chunk's level never falls, and one write
 * is at one level). The lease first: a holder that stalled past its lease can still land parts that
 * did not exist yet (nothing stored to refuse them; only the parts a newer holder wrote are refused),
 * and those must not win over what the newer holder wrote at a lower level — a purge undone.
 */
export function mergeParts(
  parts: ReadonlyArray<{ level?: number; fence?: number; entries: readonly ManifestEntry[] }>,
  into: Map<string, ManifestEntry> = new Map(),
): Map<string, ManifestEntry> {
  const order = (p: { level?: number; fence?: number }): [number, number] => [p.fence ?? -1, p.level ?? 0];
  const sorted = [...parts].sort((a, b) => {
    const [fa, la] = order(a);
    const [fb, lb] = order(b);
    return fa - fb || la - lb;
  });
  for (const p of sorted) for (const e of p.entries) into.set(e.id, e);
  return into;
}
