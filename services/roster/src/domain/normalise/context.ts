import { DATASET_TABLES, DATASETS, toTyped } from '@isams-sync/isams';
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

/**
 * One record of a dataset as the typed view read it: its value and the fields it could not read.
 * A record repeated under its key with other content (a join emitting one row per child, a reused
 * row id) is read once: `value` is the first copy, `disputed` the fields its copies disagree on
 * (they keep their stored value, like unreadable ones, unless the roster field is read from every
 * copy: {@link EveryCopy}) and `repeats` the differing copies, for the entities, list items and
 * keys only they name.
 */
export interface ReadRow<D extends DatasetId> {
  value: TypedRecord<D>;
  /** Fields that could not be read, in any copy. */
  unreadable: ReadonlySet<TypedFieldPath<D>>;
  disputed: ReadonlySet<TypedFieldPath<D>>;
  repeats: readonly TypedRecord<D>[];
}

interface BuildingRow<D extends DatasetId> extends ReadRow<D> {
  unreadable: Set<TypedFieldPath<D>>;
  disputed: Set<TypedFieldPath<D>>;
  repeats: TypedRecord<D>[];
}

/** A key (user code, name) of one copy of a record, for a lookup (`keyMap`): `repeat` = a differing later copy's. */
export interface CopyKey {
  id: string;
  key: string | undefined;
  repeat?: boolean;
}

/** The `key` of every copy of every record read: each first copy's, then each differing repeat's. */
export const copyKeys = <R extends { id: string }>(
  rows: readonly { value: R; repeats: readonly R[] }[],
  key: (copy: R) => string | undefined,
): CopyKey[] => [
  ...rows.map((r) => ({ id: r.value.id, key: key(r.value) })),
  ...rows.flatMap((r) => r.repeats.map((c) => ({ id: c.id, key: key(c), repeat: true }))),
];

/** Every copy of a row: the first, then each differing repeat. */
export const copiesOf = <D extends DatasetId>(row: ReadRow<D>): TypedRecord<D>[] => [
  row.value,
  ...row.repeats,
];

type Item = { [key: string]: JsonValue };

/**
 * The items of a list read from every copy of a row (`lists`, one per copy): a join sends a parent
 * once per child, so the copies' lists are parts of one. Each item once, by `key`, sorted by it
 * (the copies' order does not matter). An item that copies give with other content is
 * `conflicting`: it keeps only the fields every copy gives it alike (the normaliser marks it to keep
 * its stored item: `itemField`). One copy: its list as it is.
 */
export function everyCopyItems<T extends Item>(
  lists: readonly (readonly T[])[],
  key: (item: T) => string,
): { items: T[]; conflicting: string[] } {
  if (lists.length === 1) return { items: [...lists[0]!], conflicting: [] };
  const byKey = new Map<string, T[]>();
  for (const item of lists.flat()) byKey.set(key(item), [...(byKey.get(key(item)) ?? []), item]);
  const conflicting: string[] = [];
  const items = [...byKey.keys()].sort(compareIds).map((k) => {
    const given = byKey.get(k)!;
    const first = JSON.stringify(given[0]);
    if (given.every((i) => JSON.stringify(i) === first)) return given[0]!;
    conflicting.push(k);
    const fields = [...new Set(given.flatMap((i) => Object.keys(i)))].sort();
    const agreed = fields.filter((f) =>
      given.every((i) => i[f] !== undefined && JSON.stringify(i[f]) === JSON.stringify(given[0]![f])),
    );
    return Object.fromEntries(agreed.map((f) => [f, given[0]![f]])) as T;
  });
  return { items, conflicting };
}

/** Whether a field of a row is not known for sure: unreadable, or its copies disagree. */
export const unsure = <D extends DatasetId>(row: ReadRow<D>, path: TypedFieldPath<D>): boolean =>
  row.unreadable.has(path) || row.disputed.has(path);

/**
 * Which typed fields (table paths) each roster field of an entity is made from. A roster field whose
 * source could not be read keeps its stored value (`keepStored`, merged at diff time).
 */
export type FieldSources<D extends DatasetId> = Readonly<Record<string, readonly TypedFieldPath<D>[]>>;

/**
 * The roster fields read from every copy of a repeated record (lists of child items, which a join
 * splits across the copies) and the sources whose copies are read so: that the copies disagree on
 * them is how a join sends them, so only an unreadable one keeps the stored value.
 */
export type EveryCopy<D extends DatasetId> = FieldSources<D>;

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
  /** Per type: stored entities not read this run that must not be removed (their person is still sent). */
  readonly retained: Map<RosterEntityType, Set<string>>;
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
    retained: new Map(),
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

/**
 * The roster fields of `sources` made from a typed field of `row` that is not known for sure
 * ({@link unsure}); for a field read from every copy (`everyCopy`), its sources listed there only
 * when unreadable.
 */
function unsureFields<D extends DatasetId>(
  row: ReadRow<D>,
  sources: FieldSources<D>,
  everyCopy: EveryCopy<D> = {},
): string[] {
  if (row.unreadable.size === 0 && row.disputed.size === 0) return [];
  return Object.keys(sources).filter((field) =>
    sources[field]!.some((p) =>
      everyCopy[field]?.includes(p) === true ? row.unreadable.has(p) : unsure(row, p),
    ),
  );
}

/**
 * Marks the roster fields of one entity made (by `sources`) from a typed field of `row` that could
 * not be read, or that the row's copies disagree on (unless `everyCopy` reads it from every copy),
 * as "keep the stored value".
 */
export function keepUnreadable<D extends DatasetId>(
  ctx: NormaliseContext,
  type: RosterEntityType,
  id: string,
  row: ReadRow<D>,
  sources: FieldSources<D>,
  everyCopy?: EveryCopy<D>,
): void {
  keepStored(ctx, type, id, unsureFields(row, sources, everyCopy));
}

/**
 * Adds one `type` entity per row, made by `build` from the first copy and every copy (which reports
 * its references' findings, and reads the `everyCopy` fields from every copy), and marks its roster
 * fields made from a typed field that could not be read, or that the copies disagree on, as "keep
 * the stored value".
 */
export function addRowEntities<D extends DatasetId>(
  ctx: NormaliseContext,
  type: RosterEntityType,
  rows: readonly ReadRow<D>[],
  sources: FieldSources<D>,
  build: (value: TypedRecord<D>, copies: readonly TypedRecord<D>[]) => RosterEntity,
  everyCopy?: EveryCopy<D>,
): void {
  for (const row of rows) {
    const made = build(row.value, copiesOf(row));
    ctx.entities[type].set(made.id, made);
    keepUnreadable(ctx, type, made.id, row, sources, everyCopy);
  }
}

/**
 * The typed records of a dataset. A record whose identity cannot be read is reported (the typed
 * view's finding) and counted in `unidentified` (its type then has no removals this run); fields
 * that cannot be read are reported and listed per row. A record repeated under its key (`keyOf`,
 * else its id) is read once: an identical repeat is reported and dropped; one with other content
 * is reported, and the fields the copies disagree on are `disputed` (kept as stored) and the copy
 * kept in `repeats`, so that nothing only it names is removed or unlinked.
 */
export function readDataset<D extends DatasetId>(
  ctx: NormaliseContext,
  datasetId: D,
  keyOf?: (r: ReadRow<D>) => string | undefined,
): ReadRow<D>[] {
  const out: BuildingRow<D>[] = [];
  const byKey = new Map<string, BuildingRow<D>>();
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
    const row: BuildingRow<D> = {
      value: r.value,
      unreadable: new Set(r.unreadable),
      disputed: new Set(),
      repeats: [],
    };
    const key = keyOf ? keyOf(row) : (r.value as unknown as { id: string }).id;
    if (key === undefined) {
      ctx.unidentified.set(datasetId, (ctx.unidentified.get(datasetId) ?? 0) + 1);
      skip(ctx, DATASET_ENTITY_TYPE[datasetId]);
      continue;
    }
    const first = byKey.get(key);
    if (first === undefined) {
      byKey.set(key, row);
      out.push(row);
      continue;
    }
    addRepeat(ctx, datasetId, key, first, row);
    skip(ctx, DATASET_ENTITY_TYPE[datasetId]);
  }
  return out;
}

/** Folds a repeat of a record into its first copy ({@link readDataset}), with its finding. */
function addRepeat<D extends DatasetId>(
  ctx: NormaliseContext,
  datasetId: D,
  key: string,
  first: BuildingRow<D>,
  repeat: ReadRow<D>,
): void {
  const a = first.value as Record<string, unknown>;
  const b = repeat.value as Record<string, unknown>;
  const differing = [...new Set([...Object.keys(a), ...Object.keys(b)])].filter(
    (k) => JSON.stringify(a[k]) !== JSON.stringify(b[k]),
  ) as TypedFieldPath<D>[];
  const { row } = DATASETS[datasetId];
  if (differing.length === 0) {
    addFinding(ctx, {
      code: F.DUPLICATE_RECORD,
      datasetId,
      recordId: key,
      message: `${row} ${key} appears more than once; the first is kept.`,
    });
    return;
  }
  for (const p of repeat.unreadable) first.unreadable.add(p);
  for (const p of differing) first.disputed.add(p);
  first.repeats.push(repeat.value);
  const fields = DATASET_TABLES[datasetId].fields as Record<string, { label: string }>;
  addFinding(ctx, {
    code: F.CONFLICTING_DUPLICATE,
    datasetId,
    recordId: key,
    message:
      `${row} ${key} appears more than once with different content (${differing.map((k) => fields[k]?.label ?? k).join(', ')}): ` +
      `which copy is right is not known, so what they disagree on keeps its stored value (a new record is added ` +
      `without it), the lists of child items a database join sends one per copy (subjects, pupils, roles, teachers, …) ` +
      `are read from every copy, and nothing only one copy names is removed. Correct the record in iSAMS.`,
  });
}
