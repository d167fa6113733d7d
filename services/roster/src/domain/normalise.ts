import { DATASETS } from '@isams-sync/isams';
import type { DatasetId } from '@isams-sync/isams';
import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import { ROSTER_FINDING_CODES as F, SOURCE_DATASET } from './roster-model';
import type { EntitiesByType, RosterFinding } from './roster-model';
import { addFinding, copyKeys, createContext, has, readDataset } from './normalise/context';
import type { NormaliseContext, RawSnapshot } from './normalise/context';
import { normaliseContacts } from './normalise/contacts';
import { normaliseCustomGroups } from './normalise/custom-groups';
import { normalisePupils } from './normalise/pupils';
import { idSet, keyMap, rowIds } from './normalise/references';
import type { References } from './normalise/references';
import {
  normaliseDivisions,
  normaliseForms,
  normaliseHouses,
  normaliseYears,
} from './normalise/school-structure';
import { normaliseStaff } from './normalise/staff';
import {
  normaliseDepartments,
  normaliseSetLists,
  normaliseSets,
  normaliseTeachingForms,
} from './normalise/teaching';

export { compareIds } from './normalise/context';
export type { RawSnapshot } from './normalise/context';

/** Result of {@link normalise}. */
export interface NormalisedSnapshot {
  entities: EntitiesByType;
  /** Entity types whose source dataset was present (possibly empty): only these can have removals. */
  presentTypes: Set<RosterEntityType>;
  /**
   * Present types that must have no removals in this run: their dataset has records whose identity
   * could not be read (`ROSTER_REMOVALS_SUSPENDED`) — any stored entity might be one of them.
   */
  suspendedTypes: Set<RosterEntityType>;
  /**
   * Per type and entity id: fields that could not be read in this run (or list items the copies of
   * a repeated record give differently: `pupils[pupilId=101]`). They keep the stored image's value
   * (merged at diff time, `keepStoredFields`); a new entity is added without them (an item, with
   * what its copies agree on).
   */
  keepStored: Partial<Record<RosterEntityType, ReadonlyMap<string, readonly string[]>>>;
  /**
   * Per type: stored entities not read in this run that are not removed, because the person is
   * still sent under another key (a contact whose records iSAMS sends with a `PersonId` it did not
   * send before: `ROSTER_CONTACT_RETAINED`). They stay as stored.
   */
  retained: Partial<Record<RosterEntityType, ReadonlySet<string>>>;
  /** Per present dataset, its raw record count (to tell "empty" from "absent"). */
  datasetRecordCounts: Partial<Record<DatasetId, number>>;
  /**
   * Per type, the source records not imported: unidentified, duplicates (a repeated membership is
   * merged into the first), memberships whose set, group or pupil does not exist, excluded custom
   * groups and their memberships. Each has its finding; the run reports them as `skipped`.
   */
  skipped: Partial<Record<RosterEntityType, number>>;
  findings: RosterFinding[];
}

/**
 * Normalises one snapshot's raw records into roster entities (docs/roster-model.md) and findings.
 * Pure and deterministic. Never throws on bad data: records and fields that cannot be read,
 * duplicates and dangling references become findings with stable codes. A record whose fields
 * cannot all be read still yields its entity (the unreadable fields listed in `keepStored`); a
 * record whose identity cannot be read suspends its type's removals. References into a dataset
 * absent from the snapshot are resolved against `fallback` (the stored roster); without one, ids
 * are kept unchecked and user codes or names stay unresolved.
 */
export function normalise(snapshot: RawSnapshot): NormalisedSnapshot {
  const ctx = createContext(snapshot);
  const datasetRecordCounts: Partial<Record<DatasetId, number>> = {};
  for (const [d, records] of Object.entries(snapshot.datasets) as [DatasetId, readonly unknown[]][])
    datasetRecordCounts[d] = records.length;

  // Reference data first: the ids and names other datasets point at.
  const staff = readDataset(ctx, 'currentStaff');
  const years = readDataset(ctx, 'yearGroups');
  const divisions = readDataset(ctx, 'schoolDivisions');
  const academic = readDataset(ctx, 'academicHouses');
  const boarding = readDataset(ctx, 'boardingHouses');
  const forms = readDataset(ctx, 'schoolForms');
  const departments = readDataset(ctx, 'departmentsAndSubjects');
  // Keys (names, user codes) of every copy of a repeated record: a reference by either finds it,
  // unless another record has the key (keyMap).
  const name = (c: { name?: string | undefined }) => c.name;
  const refs: References = {
    staffIds: idSet(ctx, 'currentStaff', rowIds(staff), 'staff'),
    staffByUserCode: keyMap(
      ctx,
      'currentStaff',
      copyKeys(staff, (c) => c.userCode),
      'staff',
      'userCode',
    ),
    yearIds: idSet(ctx, 'yearGroups', rowIds(years), 'yearGroup'),
    divisionIds: idSet(ctx, 'schoolDivisions', rowIds(divisions), 'division'),
    divisionByName: keyMap(ctx, 'schoolDivisions', copyKeys(divisions, name), 'division', 'name'),
    academicIds: idSet(ctx, 'academicHouses', rowIds(academic), 'academicHouse'),
    academicByName: keyMap(ctx, 'academicHouses', copyKeys(academic, name), 'academicHouse', 'name'),
    boardingIds: idSet(ctx, 'boardingHouses', rowIds(boarding), 'boardingHouse'),
    boardingByName: keyMap(ctx, 'boardingHouses', copyKeys(boarding, name), 'boardingHouse', 'name'),
    formIds: idSet(ctx, 'schoolForms', rowIds(forms), 'form'),
  };
  refs.subjectIds = normaliseDepartments(ctx, departments);
  normaliseStaff(ctx, staff, refs);
  normaliseYears(ctx, years, refs);
  normaliseDivisions(ctx, divisions, refs);
  normaliseHouses(ctx, 'academicHouses', academic, refs);
  normaliseHouses(ctx, 'boardingHouses', boarding, refs);
  normaliseForms(ctx, forms, refs);

  const pupils = readDataset(ctx, 'currentPupils');
  refs.pupilIds = idSet(ctx, 'currentPupils', rowIds(pupils), 'pupil');
  normalisePupils(ctx, pupils, refs);
  normaliseContacts(ctx, refs);

  refs.setIds = normaliseSets(ctx, refs);
  normaliseSetLists(ctx, refs);
  normaliseTeachingForms(ctx, refs);
  normaliseCustomGroups(ctx, refs);

  return finish(ctx, datasetRecordCounts);
}

/** Present types, removal suspensions (with one finding per dataset) and the fields to keep. */
function finish(
  ctx: NormaliseContext,
  datasetRecordCounts: Partial<Record<DatasetId, number>>,
): NormalisedSnapshot {
  const presentTypes = new Set(ROSTER_ENTITY_TYPES.filter((t) => has(ctx, SOURCE_DATASET[t])));
  const suspendedTypes = new Set(
    ROSTER_ENTITY_TYPES.filter(
      (t) => presentTypes.has(t) && (ctx.unidentified.has(SOURCE_DATASET[t]) || ctx.suspended.has(t)),
    ),
  );
  const byDataset = new Map<DatasetId, RosterEntityType[]>();
  for (const t of suspendedTypes)
    byDataset.set(SOURCE_DATASET[t], [...(byDataset.get(SOURCE_DATASET[t]) ?? []), t]);
  for (const [datasetId, types] of byDataset) {
    const n = ctx.unidentified.get(datasetId);
    const { adminName } = DATASETS[datasetId];
    addFinding(ctx, {
      code: F.REMOVALS_SUSPENDED,
      datasetId,
      message:
        `${adminName}: ${n === undefined ? 'a nested list had an entry' : `${n} record${n === 1 ? '' : 's'}`} ` +
        `that could not be identified (see the ISAMS_RECORD_* / ISAMS_FIELD_UNREADABLE findings), so no ` +
        `${types.join(' or ')} is removed in this run — an unidentified record might be it. Correct the ` +
        `records in iSAMS; the next run that can read them removes what is really gone.`,
    });
  }
  const keepStored: NormalisedSnapshot['keepStored'] = {};
  for (const [type, byId] of ctx.keepStored)
    keepStored[type] = new Map([...byId].map(([id, fields]) => [id, [...fields].sort()]));
  return {
    entities: ctx.entities,
    presentTypes,
    suspendedTypes,
    keepStored,
    retained: Object.fromEntries(ctx.retained),
    datasetRecordCounts,
    skipped: Object.fromEntries(ctx.skipped),
    findings: ctx.findings,
  };
}
