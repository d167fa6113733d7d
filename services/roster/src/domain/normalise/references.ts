import { DATASETS } from '@isams-sync/isams';
import type { DatasetId } from '@isams-sync/isams';
import type { RosterEntityType } from '@isams-sync/events';
import { ROSTER_FINDING_CODES as F, SOURCE_DATASET } from '../roster-model';
import { addFinding, entity, has, skip, sortedUnique } from './context';
import type { CopyKey, NewFinding, NormaliseContext } from './context';

/** Ids a reference may point at; `undefined` = unknown (the dataset is absent and nothing is stored): unchecked. */
export type IdSet = ReadonlySet<string> | undefined;
/** Ids (or keyed ids) by their lower-cased key: the targets a reference differing only in letter case may mean. */
type Folded = ReadonlyMap<string, readonly string[]>;
/**
 * A key (user code, name) → id lookup: the exact keys, the lower-cased ones, and the lower-cased keys
 * that only repeats of several records name (`contested`: a reference to one matches none);
 * `undefined` = unknown: the reference stays unresolved.
 */
export type KeyMap =
  { exact: ReadonlyMap<string, string>; folded: Folded; contested: ReadonlySet<string> } | undefined;

/** Adds `id` under the lower-cased `key` (once). */
function addFolded(m: Map<string, string[]>, key: string, id: string): void {
  const ids = m.get(key.toLowerCase());
  if (ids === undefined) m.set(key.toLowerCase(), [id]);
  else if (!ids.includes(id)) ids.push(id);
}

/** The lower-cased index of an id set, made on the first reference that misses it exactly. */
const foldedIdSets = new WeakMap<ReadonlySet<string>, Folded>();
function foldedIds(ids: ReadonlySet<string>): Folded {
  let folded = foldedIdSets.get(ids);
  if (folded === undefined) {
    const m = new Map<string, string[]>();
    for (const id of ids) addFolded(m, id, id);
    foldedIdSets.set(ids, (folded = m));
  }
  return folded;
}

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
 * A key → id lookup from `rows`, plus the stored entities' `field` when needed. An exact key wins
 * (the first record's first copy with it, then the stored); a key differing only in letter case
 * (iSAMS's database compares text that way) finds the one target it can mean — or none when it can
 * mean several. A repeat's key (a differing later copy of a record) counts only where no record's
 * first copy has it, even differing in case: a key of another record is that record's. One that
 * repeats of several records name matches none (`contested`).
 */
export function keyMap(
  ctx: NormaliseContext,
  d: DatasetId,
  rows: readonly CopyKey[],
  type: RosterEntityType,
  field: string,
): KeyMap {
  const stored = ctx.snapshot.fallback?.[type];
  if (!has(ctx, d) && stored === undefined) return undefined;
  const exact = new Map<string, string>();
  const folded = new Map<string, string[]>();
  const contested = new Set<string>();
  if (has(ctx, d)) {
    for (const r of rows) {
      if (r.repeat || r.key === undefined) continue;
      if (!exact.has(r.key)) exact.set(r.key, r.id);
      addFolded(folded, r.key, r.id);
    }
    const repeats = rows.filter(
      (r): r is CopyKey & { key: string } =>
        r.repeat === true && r.key !== undefined && !folded.has(r.key.toLowerCase()),
    );
    const byRepeats = new Map<string, string[]>();
    for (const r of repeats) addFolded(byRepeats, r.key, r.id);
    for (const r of repeats) {
      if (byRepeats.get(r.key.toLowerCase())!.length > 1) contested.add(r.key.toLowerCase());
      else if (!exact.has(r.key)) exact.set(r.key, r.id);
    }
    for (const [key, ids] of byRepeats) folded.set(key, ids);
  }
  if (withStored(ctx, d, type) && stored !== undefined) {
    const fromRows = new Set(folded.keys());
    for (const e of stored.values()) {
      const key = e[field];
      if (typeof key !== 'string') continue;
      if (!exact.has(key) && !contested.has(key.toLowerCase())) exact.set(key, e.id);
      if (!fromRows.has(key.toLowerCase())) addFolded(folded, key, e.id);
    }
  }
  return { exact, folded, contested };
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

/** The one target a value differing only in letter case means; `ambiguous` when it could be several. */
function byCase(folded: Folded, value: string): string | 'ambiguous' | undefined {
  const ids = folded.get(value.toLowerCase());
  if (ids === undefined || ids.length === 0) return undefined;
  return ids.length === 1 ? ids[0] : 'ambiguous';
}

/**
 * Why a reference matched no one target: none matches; several, ignoring case, that differ only in
 * letter case; several through the repeated copies of their records (a `contested` key).
 */
type Miss = 'none' | 'case' | 'repeats';

/** The finding of a reference that matches no one target ({@link Miss}): the link is left empty. */
function dangling(ctx: NormaliseContext, site: RefSite, value: string, miss: Miss, quoted: boolean): void {
  const what = quoted ? `${site.field} "${value}"` : site.field;
  const matches = {
    none: `matches no ${site.targetName}`,
    case: `matches several ${site.targetName}s that differ only in letter case`,
    repeats: `matches several ${site.targetName}s: repeated copies of their records (ROSTER_CONFLICTING_DUPLICATE) name it`,
  }[miss];
  addFinding(ctx, {
    code: F.DANGLING_REFERENCE,
    datasetId: site.datasetId,
    recordId: site.recordId,
    field: site.field,
    ...(site.personal ? {} : { ref: value }),
    message: `${DATASETS[site.datasetId].row} ${site.recordId}: ${what} ${matches}; the link is left empty.`,
  });
}

/**
 * Checks an id reference against a target set; an unknown target = unchecked. An id differing only
 * in letter case from one target (a form `9w` for `9W`) links to it.
 */
export function refById(
  ctx: NormaliseContext,
  target: IdSet,
  value: string | undefined,
  site: RefSite,
): string | undefined {
  if (value === undefined) return undefined;
  if (target === undefined || target.has(value)) return value;
  const hit = byCase(foldedIds(target), value);
  if (hit !== undefined && hit !== 'ambiguous') return hit;
  dangling(ctx, site, value, hit === 'ambiguous' ? 'case' : 'none', true);
  return undefined;
}

/**
 * Resolves a user code or name through a lookup (exactly, else differing only in letter case from
 * one key; a contested key matches none); an unknown lookup = unresolvable (no finding).
 */
export function refByKey(
  ctx: NormaliseContext,
  lookup: KeyMap,
  value: string | undefined,
  site: RefSite,
): string | undefined {
  if (value === undefined || lookup === undefined) return undefined;
  const exact = lookup.exact.get(value);
  if (exact !== undefined) return exact;
  const contested = lookup.contested.has(value.toLowerCase());
  const hit = contested ? 'ambiguous' : byCase(lookup.folded, value);
  if (hit !== undefined && hit !== 'ambiguous') return hit;
  dangling(ctx, site, value, contested ? 'repeats' : hit === 'ambiguous' ? 'case' : 'none', false);
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
