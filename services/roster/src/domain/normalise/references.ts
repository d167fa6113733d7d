import { DATASETS } from '@isams-sync/isams';
import type { DatasetId } from '@isams-sync/isams';
import type { RosterEntityType } from '@isams-sync/events';
import { ROSTER_FINDING_CODES as F, SOURCE_DATASET } from '../roster-model';
import { addFinding, entity, has, skip, sortedUnique } from './context';
import type { NewFinding, NormaliseContext } from './context';

/** Ids a reference may point at; `undefined` = unknown (the dataset is absent and nothing is stored): unchecked. */
export type IdSet = ReadonlySet<string> | undefined;
/** A key (user code, name) → id lookup; `undefined` = unknown: the reference stays unresolved. */
export type KeyMap = ReadonlyMap<string, string> | undefined;

/** Where a reference sits, for its finding. */
export interface RefSite {
  datasetId: DatasetId;
  recordId: string;
  field: string;
  targetName: string;
  /** The value is personal-ish (a user code): never copied into the finding. */
  personal?: boolean;
}

/**
 * Should references into dataset `d` also accept the stored entities of `type`? Yes when the
 * dataset is absent (nothing to check against) or has records that could not be identified (those
 * records may be the stored entities, which are therefore not removed this run either).
 */
function withStored(ctx: NormaliseContext, d: DatasetId, type: RosterEntityType): boolean {
  return !has(ctx, d) || ctx.unidentified.has(d) || ctx.suspended.has(type);
}

/** The ids of read rows, for {@link idSet}. */
export function rowIds(rows: readonly { value: { id: string } }[]): string[] {
  return rows.map((r) => r.value.id);
}

/** The ids of `type` a reference may point at: the rows read, plus the stored ones when needed (see above). */
export function idSet(
  ctx: NormaliseContext,
  d: DatasetId,
  ids: Iterable<string>,
  type: RosterEntityType,
): IdSet {
  const stored = ctx.snapshot.fallback?.[type];
  if (!has(ctx, d)) return stored === undefined ? undefined : new Set(stored.keys());
  const out = new Set(ids);
  if (withStored(ctx, d, type) && stored !== undefined) for (const id of stored.keys()) out.add(id);
  return out;
}

/**
 * A key → id lookup (first wins) from `rows`, plus the stored entities' `field` when needed.
 * `caseInsensitive` also matches lower-cased keys (names); user codes match exactly.
 */
export function keyMap(
  ctx: NormaliseContext,
  d: DatasetId,
  rows: readonly { id: string; key: string | undefined }[],
  type: RosterEntityType,
  field: string,
  caseInsensitive: boolean,
): KeyMap {
  const stored = ctx.snapshot.fallback?.[type];
  if (!has(ctx, d) && stored === undefined) return undefined;
  const m = new Map<string, string>();
  const add = (key: string | undefined, id: string) => {
    if (key === undefined) return;
    if (!m.has(key)) m.set(key, id);
    if (caseInsensitive && !m.has(key.toLowerCase())) m.set(key.toLowerCase(), id);
  };
  if (has(ctx, d)) for (const r of rows) add(r.key, r.id);
  if (withStored(ctx, d, type) && stored !== undefined)
    for (const e of stored.values())
      add(typeof e[field] === 'string' ? (e[field] as string) : undefined, e.id);
  return m;
}

/** The sites of one record's references: `site(field, targetName)` for {@link refById} / {@link refByKey}. */
export function recordSites(
  datasetId: DatasetId,
  recordId: string,
): (field: string, targetName: string) => RefSite {
  return (field, targetName) => ({ datasetId, recordId, field, targetName });
}

/** Checks every id of a list against a target set ({@link refById}); the dangling ones are left out. */
export function refsById(
  ctx: NormaliseContext,
  target: IdSet,
  values: readonly string[],
  site: RefSite,
): string[] {
  return values
    .map((value) => refById(ctx, target, value, site))
    .filter((id): id is string => id !== undefined);
}

/** Checks an id reference against a target set; an unknown target = unchecked. */
export function refById(
  ctx: NormaliseContext,
  target: IdSet,
  value: string | undefined,
  site: RefSite,
): string | undefined {
  if (value === undefined) return undefined;
  if (target === undefined || target.has(value)) return value;
  addFinding(ctx, {
    code: F.DANGLING_REFERENCE,
    datasetId: site.datasetId,
    recordId: site.recordId,
    field: site.field,
    ref: value,
    message: `${DATASETS[site.datasetId].row} ${site.recordId}: ${site.field} "${value}" matches no ${site.targetName}; the link is left empty.`,
  });
  return undefined;
}

/** Resolves a user code or name through a lookup; an unknown lookup = unresolvable (no finding). */
export function refByKey(
  ctx: NormaliseContext,
  lookup: KeyMap,
  value: string | undefined,
  site: RefSite,
): string | undefined {
  if (value === undefined || lookup === undefined) return undefined;
  const hit = lookup.get(value) ?? lookup.get(value.toLowerCase());
  if (hit !== undefined) return hit;
  addFinding(ctx, {
    code: F.DANGLING_REFERENCE,
    datasetId: site.datasetId,
    recordId: site.recordId,
    field: site.field,
    ...(site.personal ? {} : { ref: value }),
    message: `${DATASETS[site.datasetId].row} ${site.recordId}: ${site.field} matches no ${site.targetName}; the link is left empty.`,
  });
  return undefined;
}

/** What the datasets normalised so far offer to references from later ones. */
export interface References {
  staffIds: IdSet;
  staffByUserCode: KeyMap;
  yearIds: IdSet;
  divisionIds: IdSet;
  divisionByName: KeyMap;
  academicIds: IdSet;
  academicByName: KeyMap;
  boardingIds: IdSet;
  boardingByName: KeyMap;
  formIds: IdSet;
  subjectIds?: IdSet;
  pupilIds?: IdSet;
  setIds?: IdSet;
  groupIds?: IdSet;
}

/** A staff reference: the modern id attribute first; the legacy user code only when the attribute is missing. */
export function staffLink(
  ctx: NormaliseContext,
  refs: References,
  idValue: string | undefined,
  code: string | undefined,
  site: Omit<RefSite, 'field' | 'targetName'> & { field: string },
): string | undefined {
  return idValue !== undefined
    ? refById(ctx, refs.staffIds, idValue, {
        ...site,
        field: `@${site.field}Id`,
        targetName: 'current staff member',
      })
    : staffByCode(ctx, refs, code, site);
}

/** {@link staffLink} for the staff references of one record: `staff(idValue, code, field)`. */
export function recordStaffLinks(
  ctx: NormaliseContext,
  refs: References,
  datasetId: DatasetId,
  recordId: string,
): (idValue: string | undefined, code: string | undefined, field: string) => string | undefined {
  return (idValue, code, field) => staffLink(ctx, refs, idValue, code, { datasetId, recordId, field });
}

/** A staff reference by legacy user code (personal: never copied into a finding). */
export function staffByCode(
  ctx: NormaliseContext,
  refs: References,
  code: string | undefined,
  site: Omit<RefSite, 'targetName'>,
): string | undefined {
  return refByKey(ctx, refs.staffByUserCode, code, {
    ...site,
    targetName: 'current staff member',
    personal: true,
  });
}

/**
 * One side of a membership row: the roster field, the ids it must be one of, the row's value, what
 * the target is called and the source field (for the `ROSTER_DANGLING_MEMBERSHIP` finding).
 */
export type MembershipSide = readonly [
  field: string,
  ids: IdSet,
  value: string,
  targetName: string,
  source: string,
];

/**
 * Adds the membership `<side 1>:<side 2>` made from one row of the type's source dataset. A row whose side matches no target is
 * reported (`ROSTER_DANGLING_MEMBERSHIP`) and not imported; a row that repeats a membership already added is merged into it (its
 * row id kept beside the first) and reported with `duplicate`.
 */
export function addMembership(
  ctx: NormaliseContext,
  type: 'customGroupMembership' | 'setMembership',
  rowId: string,
  sides: readonly [MembershipSide, MembershipSide],
  duplicate: Omit<NewFinding, 'recordId' | 'datasetId'>,
): void {
  const datasetId = SOURCE_DATASET[type];
  for (const [, set, value, targetName, source] of sides) {
    if (set !== undefined && !set.has(value)) {
      addFinding(ctx, {
        code: F.DANGLING_MEMBERSHIP,
        datasetId,
        recordId: rowId,
        field: source,
        ref: value,
        message: `${DATASETS[datasetId].row} ${rowId}: ${source} "${value}" matches no ${targetName}; the row is not imported.`,
      });
      skip(ctx, type);
      return;
    }
  }
  const key = sides.map(([, , value]) => value).join(':');
  const existing = ctx.entities[type].get(key);
  if (existing === undefined) {
    const fields = Object.fromEntries(sides.map(([name, , value]) => [name, value]));
    ctx.entities[type].set(key, entity({ ...fields, id: key, rowIds: [rowId] }));
    return;
  }
  addFinding(ctx, { ...duplicate, datasetId, recordId: rowId });
  skip(ctx, type);
  existing.rowIds = sortedUnique([...(existing.rowIds as string[]), rowId]);
}
