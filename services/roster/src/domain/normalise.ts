import { DATASETS, toTyped } from '@isams-sync/isams';
import type { DatasetId, RawElement, TypedRecord } from '@isams-sync/isams';
import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import { ROSTER_FINDING_CODES as F, SOURCE_DATASET } from './roster-model';
import type { EntitiesByType, JsonValue, RosterEntity, RosterFinding } from './roster-model';

/** The raw records of one snapshot: a dataset missing from `datasets` was not returned by the key. */
export interface RawSnapshot {
  datasets: Partial<Record<DatasetId, readonly RawElement[]>>;
  /** The snapshot's fetch time: "expired" custom groups are judged against it (keeps normalise deterministic). */
  asOf: Date;
  /**
   * The stored (active) roster: references into a dataset ABSENT from this snapshot are resolved
   * against it, so a missing dataset neither drops links nor causes spurious updates.
   */
  fallback?: Partial<Record<RosterEntityType, ReadonlyMap<string, RosterEntity>>>;
}

/** Result of {@link normalise}. */
export interface NormalisedSnapshot {
  entities: EntitiesByType;
  /** Entity types whose source dataset was present (possibly empty): only these can have removals. */
  presentTypes: Set<RosterEntityType>;
  /** Per present dataset, its raw record count (to tell "empty" from "absent"). */
  datasetRecordCounts: Partial<Record<DatasetId, number>>;
  findings: RosterFinding[];
}

type Fields = Record<string, JsonValue | undefined>;

/** Drops `undefined` fields so stored images and fresh images compare equal. */
function compact(fields: Fields): { [key: string]: JsonValue } {
  const out: { [key: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(fields)) if (v !== undefined) out[k] = v;
  return out;
}
const entity = (fields: Fields & { id: string }): RosterEntity => compact(fields) as RosterEntity;

const emptyEntities = (): EntitiesByType =>
  Object.fromEntries(ROSTER_ENTITY_TYPES.map((t) => [t, new Map<string, RosterEntity>()])) as EntitiesByType;

/** Parses an iSAMS date-time (no zone = UTC) or returns undefined. */
function parseIsamsDate(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const withZone = /(?:Z|[+-]\d\d:?\d\d)$/.test(value)
    ? value
    : `${value.length === 10 ? `${value}T00:00:00` : value}Z`;
  const ms = Date.parse(withZone);
  return Number.isNaN(ms) ? undefined : ms;
}

const sortedUnique = (values: Iterable<string>): string[] => [...new Set(values)].sort(compareIds);

/** Numeric ids sort numerically, others lexically: stable and readable. */
export function compareIds(a: string, b: string): number {
  const na = Number(a);
  const nb = Number(b);
  if (Number.isFinite(na) && Number.isFinite(nb) && na !== nb) return na - nb;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Normalises one snapshot's raw records into roster entities (docs/roster-model.md) and findings.
 * Pure and deterministic. Never throws on bad data: invalid records, duplicates and dangling
 * references become findings with stable codes. References into a dataset absent from the snapshot
 * are resolved against `fallback` (the stored roster); without one, ids are kept unchecked and user
 * codes or names stay unresolved.
 */
export function normalise(snapshot: RawSnapshot): NormalisedSnapshot {
  const findings: RosterFinding[] = [];
  const entities = emptyEntities();
  const present = new Set(Object.keys(snapshot.datasets) as DatasetId[]);
  const datasetRecordCounts: Partial<Record<DatasetId, number>> = {};
  for (const d of present) datasetRecordCounts[d] = snapshot.datasets[d]!.length;
  const presentTypes = new Set(ROSTER_ENTITY_TYPES.filter((t) => present.has(SOURCE_DATASET[t])));

  const finding = (f: Omit<RosterFinding, 'severity'> & { severity?: RosterFinding['severity'] }): void => {
    findings.push({ severity: 'warning', ...f });
  };

  /** Typed records of a dataset, invalid ones turned into findings, duplicate ids reported (first wins). */
  function typed<D extends DatasetId>(datasetId: D, keyOf?: (r: TypedRecord<D>) => string): TypedRecord<D>[] {
    const raws = snapshot.datasets[datasetId] ?? [];
    const out: TypedRecord<D>[] = [];
    const seen = new Map<string, string>();
    for (const raw of raws) {
      const r = toTyped(datasetId, raw);
      if (!r.ok) {
        finding({
          code: r.finding.code,
          datasetId,
          ...(r.finding.recordId === undefined ? {} : { recordId: r.finding.recordId }),
          ...(r.finding.path === undefined ? {} : { field: r.finding.path }),
          message: r.finding.message,
        });
        continue;
      }
      const key = keyOf ? keyOf(r.value) : (r.value as { id: string }).id;
      const fingerprint = JSON.stringify(r.value);
      const prior = seen.get(key);
      if (prior !== undefined) {
        finding({
          code: prior === fingerprint ? F.DUPLICATE_RECORD : F.CONFLICTING_DUPLICATE,
          datasetId,
          recordId: key,
          message: `${DATASETS[datasetId].row} ${key} appears more than once${prior === fingerprint ? '' : ' with different content'}; the first is kept.`,
        });
        continue;
      }
      seen.set(key, fingerprint);
      out.push(r.value);
    }
    return out;
  }

  /** Checks an id reference against a target set; absent target dataset = unchecked. */
  const refById = (
    target: Map<string, unknown> | undefined,
    value: string | undefined,
    ctx: { datasetId: DatasetId; recordId: string; field: string; targetName: string },
  ): string | undefined => {
    if (value === undefined) return undefined;
    if (target === undefined || target.has(value)) return value;
    finding({
      code: F.DANGLING_REFERENCE,
      datasetId: ctx.datasetId,
      recordId: ctx.recordId,
      field: ctx.field,
      ref: value,
      message: `${DATASETS[ctx.datasetId].row} ${ctx.recordId}: ${ctx.field} "${value}" matches no ${ctx.targetName}; the link is left empty.`,
    });
    return undefined;
  };
  /** Resolves a user code or name through a lookup; absent lookup = unresolvable (no finding). */
  const refByKey = (
    lookup: Map<string, string> | undefined,
    value: string | undefined,
    ctx: { datasetId: DatasetId; recordId: string; field: string; targetName: string; personal?: boolean },
  ): string | undefined => {
    if (value === undefined || lookup === undefined) return undefined;
    const hit = lookup.get(value) ?? lookup.get(value.toLowerCase());
    if (hit !== undefined) return hit;
    finding({
      code: F.DANGLING_REFERENCE,
      datasetId: ctx.datasetId,
      recordId: ctx.recordId,
      field: ctx.field,
      ...(ctx.personal ? {} : { ref: value }),
      message: `${DATASETS[ctx.datasetId].row} ${ctx.recordId}: ${ctx.field} matches no ${ctx.targetName}; the link is left empty.`,
    });
    return undefined;
  };
  const has = (d: DatasetId): boolean => present.has(d);
  const fb = snapshot.fallback ?? {};
  /** Id lookup of a dataset: its rows when present, else the stored entities of `type` (if given). */
  const idLookup = <R extends { id: string }>(
    d: DatasetId,
    rows: readonly R[],
    type: RosterEntityType,
  ): Map<string, unknown> | undefined =>
    has(d) ? new Map(rows.map((r) => [r.id, r])) : fb[type] === undefined ? undefined : new Map(fb[type]);
  /** Name (or other key) lookup: from rows when present, else from stored entities' `field`. */
  const keyLookup = (
    d: DatasetId,
    rows: readonly { id: string; name?: string | undefined }[],
    type: RosterEntityType,
    field = 'name',
  ): Map<string, string> | undefined =>
    has(d)
      ? nameLookup(rows)
      : fb[type] === undefined
        ? undefined
        : nameLookup(
            [...fb[type].values()].map((e) => ({
              id: e.id,
              name: typeof e[field] === 'string' ? (e[field] as string) : undefined,
            })),
          );

  // --- reference data first (ids other datasets point at) ---
  const staffRows = typed('currentStaff');
  const staffIds = idLookup('currentStaff', staffRows, 'staff');
  let staffByUserCode: Map<string, string> | undefined;
  if (has('currentStaff')) {
    staffByUserCode = new Map<string, string>();
    for (const s of staffRows)
      if (s.userCode !== undefined && !staffByUserCode.has(s.userCode)) staffByUserCode.set(s.userCode, s.id);
  } else if (fb.staff !== undefined) {
    staffByUserCode = new Map(
      [...fb.staff.values()]
        .filter((e) => typeof e.userCode === 'string')
        .map((e) => [e.userCode as string, e.id]),
    );
  }

  const yearRows = typed('yearGroups');
  const yearIds = idLookup('yearGroups', yearRows, 'yearGroup');
  const divisionRows = typed('schoolDivisions');
  const divisionIds = idLookup('schoolDivisions', divisionRows, 'division');
  const divisionByName = keyLookup('schoolDivisions', divisionRows, 'division');
  const academicRows = typed('academicHouses');
  const academicIds = idLookup('academicHouses', academicRows, 'academicHouse');
  const academicByName = keyLookup('academicHouses', academicRows, 'academicHouse');
  const boardingRows = typed('boardingHouses');
  const boardingIds = idLookup('boardingHouses', boardingRows, 'boardingHouse');
  const boardingByName = keyLookup('boardingHouses', boardingRows, 'boardingHouse');
  const formRows = typed('schoolForms');
  const formIds = idLookup('schoolForms', formRows, 'form');
  const departmentRows = typed('departmentsAndSubjects');

  // --- subjects: de-duplicated across departments ---
  const subjects = entities.subject;
  for (const dept of departmentRows) {
    for (const s of dept.subjects) {
      const existing = subjects.get(s.id);
      if (existing === undefined) {
        subjects.set(s.id, entity({ id: s.id, name: s.name, code: s.code, departmentIds: [dept.id] }));
        continue;
      }
      if ((existing.name ?? undefined) !== s.name || (existing.code ?? undefined) !== s.code) {
        finding({
          code: F.SUBJECT_CONFLICT,
          datasetId: 'departmentsAndSubjects',
          recordId: s.id,
          message: `Subject ${s.id} appears under several departments with different names or codes; the first is kept.`,
        });
      }
      existing.departmentIds = sortedUnique([...(existing.departmentIds as string[]), dept.id]);
    }
  }
  const subjectIds = has('departmentsAndSubjects')
    ? subjects
    : fb.subject === undefined
      ? undefined
      : new Map(fb.subject);
  for (const dept of departmentRows) {
    entities.department.set(
      dept.id,
      entity({ id: dept.id, name: dept.name, subjectIds: sortedUnique(dept.subjects.map((s) => s.id)) }),
    );
  }

  // --- staff ---
  for (const s of staffRows) {
    const divisions = s.divisions
      .map((d) =>
        refById(divisionIds, d.id, {
          datasetId: 'currentStaff',
          recordId: s.id,
          field: 'Divisions/Division/@Id',
          targetName: 'school division',
        }),
      )
      .filter((d): d is string => d !== undefined);
    entities.staff.set(
      s.id,
      entity({
        id: s.id,
        personId: s.personId,
        personGuid: s.personGuid?.toLowerCase(),
        userCode: s.userCode,
        userName: s.userName,
        initials: s.initials,
        title: s.title,
        forename: s.forename,
        middleNames: s.middleNames,
        surname: s.surname,
        preferredName: s.preferredName,
        fullName: s.fullName ?? ([s.forename, s.surname].filter(Boolean).join(' ') || undefined),
        salutation: s.salutation,
        gender: s.gender,
        dob: s.dob,
        email: s.schoolEmailAddress,
        mobile: s.schoolMobileNumber,
        teaching: s.teachingStaff ?? false,
        leavingDate: s.leavingDate,
        roles: s.roles.filter((r) => r.id !== undefined).map((r) => compact({ id: r.id, name: r.name })),
        divisionIds: sortedUnique(divisions),
      }),
    );
  }

  // --- school structure ---
  const staffRef = (value: string | undefined, datasetId: DatasetId, recordId: string, field: string) =>
    refById(staffIds, value, { datasetId, recordId, field, targetName: 'current staff member' });
  const staffByCode = (value: string | undefined, datasetId: DatasetId, recordId: string, field: string) =>
    refByKey(staffByUserCode, value, {
      datasetId,
      recordId,
      field,
      targetName: 'current staff member',
      personal: true,
    });
  /** Modern id attribute first; the legacy user code only when the attribute is missing. */
  const staffLink = (
    idValue: string | undefined,
    code: string | undefined,
    datasetId: DatasetId,
    recordId: string,
    field: string,
  ) =>
    idValue !== undefined
      ? staffRef(idValue, datasetId, recordId, `@${field}Id`)
      : staffByCode(code, datasetId, recordId, field);

  for (const y of yearRows) {
    entities.yearGroup.set(
      y.id,
      entity({
        id: y.id,
        name: y.name,
        code: y.code,
        tutorStaffId: staffLink(y.tutorId, y.tutorUserCode, 'yearGroups', y.id, 'Tutor'),
        assistantTutorStaffId: staffLink(
          y.assistantTutorId,
          y.assistantTutorUserCode,
          'yearGroups',
          y.id,
          'AssistantTutor',
        ),
      }),
    );
  }
  for (const d of divisionRows) {
    const years = d.years
      .map((y) =>
        refById(yearIds, y.yearId, {
          datasetId: 'schoolDivisions',
          recordId: d.id,
          field: 'Years/Year/@YearId',
          targetName: 'year group',
        }),
      )
      .filter((y): y is string => y !== undefined);
    entities.division.set(
      d.id,
      entity({ id: d.id, name: d.name, code: d.code, yearGroupIds: sortedUnique(years) }),
    );
  }
  const houseEntity = (h: TypedRecord<'academicHouses'>, datasetId: DatasetId): RosterEntity =>
    entity({
      id: h.id,
      name: h.name,
      code: h.code,
      type: h.type,
      sex: h.sex,
      houseMasterStaffId: staffLink(h.houseMasterId, h.houseMasterUserCode, datasetId, h.id, 'HouseMaster'),
      assistantHouseMasterStaffId: staffLink(
        h.assistantHouseMasterId,
        h.assistantHouseMasterUserCode,
        datasetId,
        h.id,
        'AssistantHouseMaster',
      ),
    });
  for (const h of academicRows) entities.academicHouse.set(h.id, houseEntity(h, 'academicHouses'));
  for (const h of boardingRows) entities.boardingHouse.set(h.id, houseEntity(h, 'boardingHouses'));
  for (const f of formRows) {
    entities.form.set(
      f.id,
      entity({
        id: f.id,
        name: f.name ?? f.id,
        yearGroupId: refById(yearIds, f.yearId, {
          datasetId: 'schoolForms',
          recordId: f.id,
          field: '@YearId',
          targetName: 'year group',
        }),
        tutorStaffId: staffLink(f.tutorId, f.tutorUserCode, 'schoolForms', f.id, 'Tutor'),
        assistantTutorStaffId: staffLink(
          f.assistantTutorId,
          f.assistantTutorUserCode,
          'schoolForms',
          f.id,
          'AssistantTutor',
        ),
        secondAssistantTutorStaffId: staffLink(
          f.secondAssistantTutorId,
          f.secondAssistantTutorUserCode,
          'schoolForms',
          f.id,
          'SecondAssistantTutor',
        ),
        roomId: f.roomId,
      }),
    );
  }

  // --- pupils ---
  const pupilRows = typed('currentPupils');
  const pupilIds = idLookup('currentPupils', pupilRows, 'pupil');
  for (const p of pupilRows) {
    const ctx = (field: string, targetName: string) => ({
      datasetId: 'currentPupils' as const,
      recordId: p.id,
      field,
      targetName,
    });
    const house = (
      idValue: string | undefined,
      name: string | undefined,
      ids: Map<string, unknown> | undefined,
      byName: Map<string, string> | undefined,
      field: string,
      targetName: string,
    ) =>
      idValue !== undefined
        ? refById(ids, idValue, ctx(`@${field}Id`, targetName))
        : refByKey(byName, name, ctx(field, targetName));
    entities.pupil.set(
      p.id,
      entity({
        id: p.id,
        personId: p.personId,
        personGuid: p.personGuid?.toLowerCase(),
        schoolId: p.schoolId,
        schoolCode: p.schoolCode,
        upn: p.upn,
        userCode: p.userCode,
        userName: p.userName,
        title: p.title,
        forename: p.forename,
        middleName: p.middleName,
        surname: p.surname,
        preferredName: p.preferredName,
        fullName: p.fullName ?? ([p.forename, p.surname].filter(Boolean).join(' ') || undefined),
        initials: p.initials,
        gender: p.gender,
        dob: p.dob,
        email: p.emailAddress,
        mobile: p.mobileNumber,
        pupilType: p.pupilType,
        enrolmentDate: p.enrolmentDate,
        familyId: p.familyId,
        formId: refById(formIds, p.form, ctx('Form', 'school form')),
        yearGroupId: refById(yearIds, p.ncYear, ctx('NCYear', 'year group')),
        academicHouseId: house(
          p.academicHouseId,
          p.academicHouse,
          academicIds,
          academicByName,
          'AcademicHouse',
          'academic house',
        ),
        boardingHouseId: house(
          p.boardingHouseId,
          p.boardingHouse,
          boardingIds,
          boardingByName,
          'BoardingHouse',
          'boarding house',
        ),
        divisionId:
          p.divisionId !== undefined
            ? refById(divisionIds, p.divisionId, ctx('@DivisionId', 'school division'))
            : refByKey(divisionByName, p.divisionName, ctx('DivisionName', 'school division')),
        tutorStaffId: staffByCode(p.tutorUserCode, 'currentPupils', p.id, 'Tutor'),
      }),
    );
  }

  // --- contacts: one entity per person; joint contact records (two people, one Id) are split ---
  const contactRows = typed(
    'contacts',
    (c) => `${c.id}/${c.personId ?? (c.isFirstPersonContact === false ? '2' : '1')}`,
  );
  for (const c of contactRows) {
    let personKey = c.personId;
    if (personKey === undefined) {
      personKey = `c${c.id}-${c.isFirstPersonContact === false ? 2 : 1}`;
      finding({
        code: F.CONTACT_WITHOUT_PERSON_ID,
        severity: 'info',
        datasetId: 'contacts',
        recordId: c.id,
        message: `Contact ${c.id} has no PersonId; the person is keyed as ${personKey}.`,
      });
    }
    const links = c.pupils.map((l) => {
      if (
        pupilIds !== undefined &&
        !pupilIds.has(l.id) &&
        (l.status ?? 'Current').toLowerCase() === 'current'
      ) {
        finding({
          code: F.DANGLING_REFERENCE,
          datasetId: 'contacts',
          recordId: c.id,
          field: 'Pupils/Pupil/@Id',
          ref: l.id,
          message: `Contact ${c.id}: linked pupil ${l.id} is marked Current but is not a current pupil.`,
        });
      }
      return compact({ pupilId: l.id, status: l.status, relationship: c.relationship, contactId: c.id });
    });
    const personal = entity({
      id: personKey,
      personId: c.personId,
      title: c.title,
      forename: c.forename,
      middleNames: c.middleNames,
      surname: c.surname,
      relationship: c.relationship,
      emails: c.emailAddresses,
      telephone: c.telephone,
      mobile: c.mobile,
      profession: c.profession,
      address: compact({
        lines: c.address.lines,
        town: c.address.town,
        county: c.address.county,
        postcode: c.address.postcode,
        country: c.address.country,
      }),
      mailMergeAll: c.mailMergeAll,
      correspondenceMailMerge: c.correspondenceMailMerge,
    });
    const existing = entities.contact.get(personKey);
    if (existing === undefined) {
      entities.contact.set(personKey, {
        ...personal,
        contactIds: [c.id],
        isFirstPersonContact: c.isFirstPersonContact ?? true,
        pupils: links,
      });
      continue;
    }
    const same = ['title', 'forename', 'surname'].every((k) => existing[k] === personal[k]);
    if (!same) {
      finding({
        code: F.CONTACT_CONFLICT,
        datasetId: 'contacts',
        recordId: c.id,
        message: `Contact person ${personKey} appears in several contact records with different names; the first is kept.`,
      });
    }
    existing.contactIds = sortedUnique([...(existing.contactIds as string[]), c.id]);
    const merged = new Map(
      (existing.pupils as { [key: string]: JsonValue }[]).map((l) => [String(l.pupilId), l]),
    );
    for (const l of links) if (!merged.has(String(l.pupilId))) merged.set(String(l.pupilId), l);
    existing.pupils = [...merged.values()].sort((a, b) => compareIds(String(a.pupilId), String(b.pupilId)));
  }
  for (const c of entities.contact.values()) {
    (c.pupils as { [key: string]: JsonValue }[]).sort((a, b) =>
      compareIds(String(a.pupilId), String(b.pupilId)),
    );
  }

  // --- teaching ---
  const setRows = typed('teachingSets');
  const setIds = idLookup('teachingSets', setRows, 'teachingSet');
  for (const s of setRows) {
    const teachers = new Map<string, boolean>();
    for (const t of s.teachers) {
      const staffId = staffRef(t.staffId, 'teachingSets', s.id, 'Teachers/Teacher/@StaffId');
      if (staffId !== undefined)
        teachers.set(staffId, (teachers.get(staffId) ?? false) || (t.primaryTeacher ?? false));
    }
    const teacherList = [...teachers.entries()]
      .sort((a, b) => compareIds(a[0], b[0]))
      .map(([staffId, primary]) => ({ staffId, primary }));
    const primary =
      teacherList.find((t) => t.primary)?.staffId ??
      (s.teachers.length === 0
        ? staffByCode(s.primaryTeacherUserCode, 'teachingSets', s.id, 'Teacher')
        : undefined);
    entities.teachingSet.set(
      s.id,
      entity({
        id: s.id,
        name: s.name ?? s.setCode,
        setCode: s.setCode,
        setNumber: s.setNumber,
        block: s.block,
        description: s.description,
        subjectId: refById(subjectIds, s.subjectId, {
          datasetId: 'teachingSets',
          recordId: s.id,
          field: '@SubjectId',
          targetName: 'subject',
        }),
        yearGroupId: refById(yearIds, s.yearId, {
          datasetId: 'teachingSets',
          recordId: s.id,
          field: '@YearId',
          targetName: 'year group',
        }),
        teachers: teacherList,
        primaryTeacherStaffId: primary,
      }),
    );
  }
  for (const row of typed('teachingSetLists')) {
    const key = `${row.setId}:${row.pupilId}`;
    if (
      !membershipTargetsOk('teachingSetLists', row.id, [
        [setIds, row.setId, 'teaching set', '@SetId'],
        [pupilIds, row.pupilId, 'current pupil', '@PupilId'],
      ])
    )
      continue;
    const existing = entities.setMembership.get(key);
    if (existing !== undefined) {
      finding({
        code: F.DUPLICATE_SET_MEMBERSHIP,
        datasetId: 'teachingSetLists',
        recordId: row.id,
        message: `SetList ${row.id} repeats set ${row.setId} for a pupil already in it; de-duplicated.`,
      });
      existing.rowIds = sortedUnique([...(existing.rowIds as string[]), row.id]);
      continue;
    }
    entities.setMembership.set(
      key,
      entity({ id: key, setId: row.setId, pupilId: row.pupilId, rowIds: [row.id] }),
    );
  }
  for (const t of typed('teachingForms')) {
    entities.teachingForm.set(
      t.id,
      entity({
        id: t.id,
        formId: refById(formIds, t.formCode, {
          datasetId: 'teachingForms',
          recordId: t.id,
          field: 'FormCode',
          targetName: 'school form',
        }),
        subjectId: refById(subjectIds, t.subjectId, {
          datasetId: 'teachingForms',
          recordId: t.id,
          field: 'SubjectId',
          targetName: 'subject',
        }),
        timetableCode: t.timetableCode,
      }),
    );
  }

  // --- custom groups (deleted and expired excluded) and their memberships ---
  const excludedGroups = new Set<string>();
  const groupRows = typed('customGroups');
  const asOf = snapshot.asOf.getTime();
  for (const g of groupRows) {
    const expiry = parseIsamsDate(g.expiryDate);
    if (g.deleted || (expiry !== undefined && expiry < asOf && g.expiryDisable !== true)) {
      excludedGroups.add(g.id);
      finding({
        code: g.deleted ? F.GROUP_DELETED : F.GROUP_EXPIRED,
        severity: 'info',
        datasetId: 'customGroups',
        recordId: g.id,
        message: `Custom group ${g.id} is ${g.deleted ? 'deleted' : 'expired'}; it and its memberships are not imported.`,
      });
      continue;
    }
    entities.customGroup.set(
      g.id,
      entity({
        id: g.id,
        name: g.name,
        categoryId: g.categoryId,
        shared: g.shared ?? false,
        expiryDate: g.expiryDate,
        ownerStaffId: staffByCode(g.authorUserCode, 'customGroups', g.id, 'Author'),
      }),
    );
  }
  const groupIds = has('customGroups')
    ? entities.customGroup
    : fb.customGroup === undefined
      ? undefined
      : new Map(fb.customGroup);
  for (const m of typed('customGroupMembership')) {
    if (excludedGroups.has(m.customGroupId)) {
      finding({
        code: F.MEMBERSHIP_OF_EXCLUDED_GROUP,
        severity: 'info',
        datasetId: 'customGroupMembership',
        recordId: m.id,
        ref: m.customGroupId,
        message: `Membership ${m.id} belongs to excluded custom group ${m.customGroupId}; not imported.`,
      });
      continue;
    }
    if (
      !membershipTargetsOk('customGroupMembership', m.id, [
        [groupIds, m.customGroupId, 'custom group', 'CustomGroupId'],
        [pupilIds, m.pupilId, 'current pupil', '@PupilID'],
      ])
    )
      continue;
    const key = `${m.customGroupId}:${m.pupilId}`;
    const existing = entities.customGroupMembership.get(key);
    if (existing !== undefined) {
      finding({
        code: F.DUPLICATE_GROUP_MEMBERSHIP,
        datasetId: 'customGroupMembership',
        recordId: m.id,
        message: `Membership ${m.id} repeats group ${m.customGroupId} for a pupil already in it; de-duplicated.`,
      });
      existing.rowIds = sortedUnique([...(existing.rowIds as string[]), m.id]);
      continue;
    }
    entities.customGroupMembership.set(
      key,
      entity({ id: key, customGroupId: m.customGroupId, pupilId: m.pupilId, rowIds: [m.id] }),
    );
  }

  return { entities, presentTypes, datasetRecordCounts, findings };

  function membershipTargetsOk(
    datasetId: DatasetId,
    recordId: string,
    targets: [Map<string, unknown> | undefined, string, string, string][],
  ): boolean {
    for (const [map, value, targetName, field] of targets) {
      if (map !== undefined && !map.has(value)) {
        finding({
          code: F.DANGLING_MEMBERSHIP,
          datasetId,
          recordId,
          field,
          ref: value,
          message: `${DATASETS[datasetId].row} ${recordId}: ${field} "${value}" matches no ${targetName}; the row is not imported.`,
        });
        return false;
      }
    }
    return true;
  }
}

function nameLookup(rows: readonly { id: string; name?: string | undefined }[]): Map<string, string> {
  const m = new Map<string, string>();
  for (const r of rows) {
    if (r.name === undefined) continue;
    if (!m.has(r.name)) m.set(r.name, r.id);
    if (!m.has(r.name.toLowerCase())) m.set(r.name.toLowerCase(), r.id);
  }
  return m;
}
