import { DATASETS, toTyped } from '@isams-sync/isams';
import type { DatasetId, RawElement, TypedFieldPath, TypedRecord } from '@isams-sync/isams';
import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import { DATASET_ENTITY_TYPE, ROSTER_FINDING_CODES as F } from '../roster-model';
import type { EntitiesByType, JsonValue, RosterEntity, RosterFinding } from '../roster-model';

/** The raw records of one snapshot: a dataset missing from `datasets` was not returned by the key. */
export interface RawSnapshot {
  datasets: Partial<Record<DatasetId, readonly RawElement[]>>;
  /** The snapshot's fetch time: "expired" custom groups are judged against it (keeps normalise deterministic). */
  asOf: Date;
  /**
   * The stored (active) roster: references into a dataset ABSENT from this snapshot — or into one
   * with records that could not be identified — are resolved against it, so neither drops links.
   */
  fallback?: Partial<Record<RosterEntityType, ReadonlyMap<string, RosterEntity>>>;
}

/** One record of a dataset as the typed view read it: its value and the fields it could not read. */
export interface ReadRow<D extends DatasetId> {
  value: TypedRecord<D>;
  unreadable: ReadonlySet<TypedFieldPath<D>>;
}

/**
 * Which typed fields (table paths) each roster field of an entity is made from. A roster field whose
 * source could not be read keeps its stored value (`keepStored`, merged at diff time).
 */
export type FieldSources<D extends DatasetId> = Readonly<Record<string, readonly TypedFieldPath<D>[]>>;

type Fields = Record<string, JsonValue | undefined>;

/** Drops `undefined` fields so stored images and fresh images compare equal. */
export function compact(fields: Fields): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}
export const entity = (fields: Fields & { id: string }): RosterEntity => compact(fields) as RosterEntity;

/** Numeric ids sort numerically, others lexically: stable and readable. */
export function compareIds(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}
export const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort(compareIds);

export type NewFinding = Omit<RosterFinding, 'severity'> & { severity?: RosterFinding['severity'] };

/** The state one normalisation builds up; every family module reads and writes it. */
export interface NormaliseContext {
  readonly snapshot: RawSnapshot;
  readonly entities: EntitiesByType;
  readonly findings: RosterFinding[];
  /** Datasets with at least one record whose identity could not be read, and how many. */
  readonly unidentified: Map<DatasetId, number>;
  /** Entity types that must not have removals this run beyond their source dataset (e.g. subjects). */
  readonly suspended: Set<RosterEntityType>;
  /** Per type and id: roster fields that keep their stored value. */
  readonly keepStored: Map<RosterEntityType, Map<string, Set<string>>>;
  /** Per type: source records not imported (unidentified, duplicate, dangling, excluded). */
  readonly skipped: Map<RosterEntityType, number>;
}

export function createContext(snapshot: RawSnapshot): NormaliseContext {
  return {
    snapshot,
    entities: Object.fromEntries(
      ROSTER_ENTITY_TYPES.map((t) => [t, new Map<string, RosterEntity>()]),
    ) as EntitiesByType,
    findings: [],
    unidentified: new Map(),
    suspended: new Set(),
    keepStored: new Map(),
    skipped: new Map(),
  };
}

/** Counts one source record of `type` that is not imported (the run's `skipped` count). */
export function skip(ctx: NormaliseContext, type: RosterEntityType): void {
  ctx.skipped.set(type, (ctx.skipped.get(type) ?? 0) + 1);
}

export function addFinding(ctx: NormaliseContext, f: NewFinding): void {
  ctx.findings.push({ severity: 'warning', ...f });
}

/** Whether the snapshot carries dataset `d` (possibly empty). */
export const has = (ctx: NormaliseContext, d: DatasetId): boolean => ctx.snapshot.datasets[d] !== undefined;

/** Marks roster fields of one entity as "keep the stored value" (they could not be read). */
export function keepStored(
  ctx: NormaliseContext,
  type: RosterEntityType,
  id: string,
  fields: Iterable<string>,
): void {
  let byId = ctx.keepStored.get(type);
  for (const f of fields) {
    if (byId === undefined) ctx.keepStored.set(type, (byId = new Map()));
    let set = byId.get(id);
    if (set === undefined) byId.set(id, (set = new Set()));
    set.add(f);
  }
}

/** The roster fields of `sources` made from a typed field that could not be read. */
function unreadableFields<D extends DatasetId>(
  unreadable: ReadonlySet<TypedFieldPath<D>>,
  sources: FieldSources<D>,
): string[] {
  if (unreadable.size === 0) return [];
  return Object.keys(sources).filter((field) => sources[field]!.some((p) => unreadable.has(p)));
}

/** Marks the roster fields of one entity made (by `sources`) from an `unreadable` typed field as "keep the stored value". */
export function keepUnreadable<D extends DatasetId>(
  ctx: NormaliseContext,
  type: RosterEntityType,
  id: string,
  unreadable: ReadonlySet<TypedFieldPath<D>>,
  sources: FieldSources<D>,
): void {
  keepStored(ctx, type, id, unreadableFields(unreadable, sources));
}

/**
 * Adds one `type` entity per row, made by `build` (which reports its references' findings), and
 * marks its roster fields made from a typed field that could not be read as "keep the stored value".
 */
export function addRowEntities<D extends DatasetId>(
  ctx: NormaliseContext,
  type: RosterEntityType,
  rows: readonly ReadRow<D>[],
  sources: FieldSources<D>,
  build: (value: TypedRecord<D>) => RosterEntity,
): void {
  for (const { value, unreadable } of rows) {
    const made = build(value);
    ctx.entities[type].set(made.id, made);
    keepUnreadable(ctx, type, made.id, unreadable, sources);
  }
}

/**
 * The typed records of a dataset. A record whose identity cannot be read is reported (the typed
 * view's finding) and counted in `unidentified` (its type then has no removals this run); fields
 * that cannot be read are reported and listed per row; duplicate keys are reported (first wins).
 */
export function readDataset<D extends DatasetId>(
  ctx: NormaliseContext,
  datasetId: D,
  keyOf?: (r: ReadRow<D>) => string | undefined,
): ReadRow<D>[] {
  const out: ReadRow<D>[] = [];
  // The first row of each key; its JSON is only taken when a second row with the key comes.
  const seen = new Map<string, unknown>();
  for (const raw of ctx.snapshot.datasets[datasetId] ?? []) {
    const r = toTyped(datasetId, raw);
    const reported = r.ok ? r.findings : [r.finding];
    for (const f of reported) {
      addFinding(ctx, {
        code: f.code,
        datasetId,
        ...(f.recordId === undefined ? {} : { recordId: f.recordId }),
        ...(f.field === undefined ? {} : { field: f.field }),
        message: f.message,
      });
    }
    if (!r.ok) {
      ctx.unidentified.set(datasetId, (ctx.unidentified.get(datasetId) ?? 0) + 1);
      skip(ctx, DATASET_ENTITY_TYPE[datasetId]);
      continue;
    }
    const row: ReadRow<D> = { value: r.value, unreadable: new Set(r.unreadable) };
    const key = keyOf ? keyOf(row) : (r.value as unknown as { id: string }).id;
    if (key === undefined) {
      ctx.unidentified.set(datasetId, (ctx.unidentified.get(datasetId) ?? 0) + 1);
      skip(ctx, DATASET_ENTITY_TYPE[datasetId]);
      continue;
    }
    if (seen.has(key)) {
      const same = JSON.stringify(seen.get(key)) === JSON.stringify(r.value);
      addFinding(ctx, {
        code: same ? F.DUPLICATE_RECORD : F.CONFLICTING_DUPLICATE,
        datasetId,
        recordId: key,
        message: `${DATASETS[datasetId].row} ${key} appears more than once${same ? '' : ' with different content'}; the first is kept.`,
      });
      skip(ctx, DATASET_ENTITY_TYPE[datasetId]);
      continue;
    }
    seen.set(key, r.value);
    out.push(row);
  }
  return out;
}
