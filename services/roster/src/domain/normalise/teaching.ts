import { ROSTER_FINDING_CODES as F } from '../roster-model';
import {
  addFinding,
  addRowEntities,
  compareIds,
  entity,
  keepStored,
  keepUnreadable,
  readDataset,
  sortedUnique,
} from './context';
import type { EveryCopy, FieldSources, NormaliseContext, ReadRow } from './context';
import { addMembership, idSet, recordSites, refById, rowIds, staffByCode } from './references';
import type { IdSet, References } from './references';

export const DEPARTMENT_SOURCES = {
  name: ['name'],
  subjectIds: ['subjects'],
} as const satisfies FieldSources<'departmentsAndSubjects'>;

/** Read from every copy of a repeated department (a join sends one per subject). */
export const DEPARTMENT_EVERY_COPY = {
  subjectIds: DEPARTMENT_SOURCES.subjectIds,
} as const satisfies EveryCopy<'departmentsAndSubjects'>;

/** Subject fields come from a department's `Subjects/Subject` items. */
export const SUBJECT_SOURCES = {
  name: ['subjects.name'],
  code: ['subjects.code'],
} as const satisfies FieldSources<'departmentsAndSubjects'>;

export const SET_SOURCES = {
  name: ['name', 'setCode'],
  setCode: ['setCode'],
  setNumber: ['setNumber'],
  block: ['block'],
  description: ['description'],
  subjectId: ['subjectId'],
  yearGroupId: ['yearId'],
  teachers: ['teachers', 'teachers.staffId', 'teachers.primaryTeacher'],
  primaryTeacherStaffId: [
    'teachers',
    'teachers.staffId',
    'teachers.primaryTeacher',
    'primaryTeacherUserCode',
  ],
} as const satisfies FieldSources<'teachingSets'>;

/**
 * Read from every copy of a repeated set (a join sends one per teacher); the primary teacher too,
 * but a disputed legacy `Teacher` user code keeps the stored one.
 */
export const SET_EVERY_COPY = {
  teachers: SET_SOURCES.teachers,
  primaryTeacherStaffId: SET_SOURCES.teachers,
} as const satisfies EveryCopy<'teachingSets'>;

export const TEACHING_FORM_SOURCES = {
  formId: ['formCode'],
  subjectId: ['subjectId'],
  timetableCode: ['timetableCode'],
} as const satisfies FieldSources<'teachingForms'>;

/**
 * Departments, and subjects de-duplicated across them. A department whose subject list could not be
 * fully read keeps its stored `subjectIds`, and no subject is removed in this run (the unreadable
 * item may be one of them); so too when a department itself could not be identified. The subjects
 * of every copy of a repeated department are read, and are its `subjectIds`.
 */
export function normaliseDepartments(
  ctx: NormaliseContext,
  rows: readonly ReadRow<'departmentsAndSubjects'>[],
): IdSet {
  const subjects = ctx.entities.subject;
  for (const row of rows) {
    const dept = row.value;
    if (row.unreadable.has('subjects')) ctx.suspended.add('subject');
    for (const s of [dept, ...row.repeats].flatMap((copy) => copy.subjects)) {
      keepUnreadable(ctx, 'subject', s.id, row, SUBJECT_SOURCES);
      const existing = subjects.get(s.id);
      if (existing === undefined) {
        subjects.set(s.id, entity({ id: s.id, name: s.name, code: s.code, departmentIds: [dept.id] }));
        continue;
      }
      if ((existing.name ?? undefined) !== s.name || (existing.code ?? undefined) !== s.code) {
        addFinding(ctx, {
          code: F.SUBJECT_CONFLICT,
          datasetId: 'departmentsAndSubjects',
          recordId: s.id,
          message: `Subject ${s.id} appears under several departments with different names or codes; the first is kept.`,
        });
      }
      existing.departmentIds = sortedUnique([...(existing.departmentIds as string[]), dept.id]);
    }
  }
  if (ctx.unidentified.has('departmentsAndSubjects')) {
    ctx.suspended.add('subject');
    for (const id of subjects.keys()) keepStored(ctx, 'subject', id, ['departmentIds']);
  }
  addRowEntities(
    ctx,
    'department',
    rows,
    DEPARTMENT_SOURCES,
    (dept, copies) =>
      entity({
        id: dept.id,
        name: dept.name,
        subjectIds: sortedUnique(copies.flatMap((c) => c.subjects.map((s) => s.id))),
      }),
    DEPARTMENT_EVERY_COPY,
  );
  return idSet(ctx, 'departmentsAndSubjects', subjects.keys(), 'subject');
}

/**
 * Teaching sets with subject, year, teachers and primary teacher. Returns the set ids for set lists.
 * The teachers of every copy of a repeated set are read; one listed as primary anywhere is primary.
 */
export function normaliseSets(ctx: NormaliseContext, refs: References): IdSet {
  const rows = readDataset(ctx, 'teachingSets');
  addRowEntities(
    ctx,
    'teachingSet',
    rows,
    SET_SOURCES,
    (s, copies) => {
      const listed = new Map<string, boolean>();
      for (const t of copies.flatMap((c) => c.teachers))
        listed.set(t.staffId, (listed.get(t.staffId) ?? false) || (t.primaryTeacher ?? false));
      const teachers = new Map<string, boolean>();
      for (const [raw, isPrimary] of listed) {
        const staffId = refById(ctx, refs.staffIds, raw, {
          datasetId: 'teachingSets',
          recordId: s.id,
          field: 'Teachers/Teacher/@StaffId',
          targetName: 'current staff member',
        });
        if (staffId !== undefined) teachers.set(staffId, (teachers.get(staffId) ?? false) || isPrimary);
      }
      const teacherList = [...teachers.entries()]
        .sort((a, b) => compareIds(a[0], b[0]))
        .map(([staffId, primary]) => ({ staffId, primary }));
      const primary =
        teacherList.find((t) => t.primary)?.staffId ??
        (listed.size === 0
          ? staffByCode(ctx, refs, s.primaryTeacherUserCode, {
              datasetId: 'teachingSets',
              recordId: s.id,
              field: 'Teacher',
            })
          : undefined);
      const site = recordSites('teachingSets', s.id);
      return entity({
        id: s.id,
        name: s.name ?? s.setCode,
        setCode: s.setCode,
        setNumber: s.setNumber,
        block: s.block,
        description: s.description,
        subjectId: refById(ctx, refs.subjectIds, s.subjectId, site('@SubjectId', 'subject')),
        yearGroupId: refById(ctx, refs.yearIds, s.yearId, site('@YearId', 'year group')),
        teachers: teacherList,
        primaryTeacherStaffId: primary,
      });
    },
    SET_EVERY_COPY,
  );
  return idSet(ctx, 'teachingSets', rowIds(rows), 'teachingSet');
}

/**
 * Set memberships `<setId>:<pupilId>`, de-duplicated; rows whose set or pupil does not exist are not
 * imported. A row is read by its id and membership: one row id repeated for other pupils is as
 * many memberships.
 */
export function normaliseSetLists(ctx: NormaliseContext, refs: References): void {
  const rows = readDataset(
    ctx,
    'teachingSetLists',
    (r) => `${r.value.id}/${r.value.setId}:${r.value.pupilId}`,
  );
  for (const { value: row } of rows) {
    addMembership(
      ctx,
      'setMembership',
      row.id,
      [
        ['setId', refs.setIds, row.setId, 'teaching set', '@SetId'],
        ['pupilId', refs.pupilIds, row.pupilId, 'current pupil', '@PupilId'],
      ],
      {
        code: F.DUPLICATE_SET_MEMBERSHIP,
        message: `SetList ${row.id} repeats set ${row.setId} for a pupil already in it; de-duplicated.`,
      },
    );
  }
}

/** Teaching forms: a school form taught a subject as a whole. */
export function normaliseTeachingForms(ctx: NormaliseContext, refs: References): void {
  addRowEntities(ctx, 'teachingForm', readDataset(ctx, 'teachingForms'), TEACHING_FORM_SOURCES, (t) => {
    const site = recordSites('teachingForms', t.id);
    return entity({
      id: t.id,
      formId: refById(ctx, refs.formIds, t.formCode, site('FormCode', 'school form')),
      subjectId: refById(ctx, refs.subjectIds, t.subjectId, site('SubjectId', 'subject')),
      timetableCode: t.timetableCode,
    });
  });
}
