import { addRowEntities, entity, sortedUnique } from './context';
import type { EveryCopy, FieldSources, NormaliseContext, ReadRow } from './context';
import { recordStaffLinks, refById, refsById } from './references';
import type { References } from './references';

export const YEAR_SOURCES = {
  name: ['name'],
  code: ['code'],
  tutorStaffId: ['tutorId', 'tutorUserCode'],
  assistantTutorStaffId: ['assistantTutorId', 'assistantTutorUserCode'],
} as const satisfies FieldSources<'yearGroups'>;

export const DIVISION_SOURCES = {
  name: ['name'],
  code: ['code'],
  yearGroupIds: ['years', 'years.yearId'],
} as const satisfies FieldSources<'schoolDivisions'>;

/** Read from every copy of a repeated division (a join sends one per year). */
export const DIVISION_EVERY_COPY = {
  yearGroupIds: DIVISION_SOURCES.yearGroupIds,
} as const satisfies EveryCopy<'schoolDivisions'>;

export const HOUSE_SOURCES = {
  name: ['name'],
  code: ['code'],
  type: ['type'],
  sex: ['sex'],
  houseMasterStaffId: ['houseMasterId', 'houseMasterUserCode'],
  assistantHouseMasterStaffId: ['assistantHouseMasterId', 'assistantHouseMasterUserCode'],
} as const satisfies FieldSources<'academicHouses'>;

export const FORM_SOURCES = {
  name: ['name'],
  yearGroupId: ['yearId'],
  tutorStaffId: ['tutorId', 'tutorUserCode'],
  assistantTutorStaffId: ['assistantTutorId', 'assistantTutorUserCode'],
  secondAssistantTutorStaffId: ['secondAssistantTutorId', 'secondAssistantTutorUserCode'],
  roomId: ['roomId'],
} as const satisfies FieldSources<'schoolForms'>;

/** Year groups (`Year/@Id` = NC year) with their tutors. */
export function normaliseYears(
  ctx: NormaliseContext,
  rows: readonly ReadRow<'yearGroups'>[],
  refs: References,
): void {
  addRowEntities(ctx, 'yearGroup', rows, YEAR_SOURCES, (y) => {
    const staff = recordStaffLinks(ctx, refs, 'yearGroups', y.id);
    return entity({
      id: y.id,
      name: y.name,
      code: y.code,
      tutorStaffId: staff(y.tutorId, y.tutorUserCode, 'Tutor'),
      assistantTutorStaffId: staff(y.assistantTutorId, y.assistantTutorUserCode, 'AssistantTutor'),
    });
  });
}

/** School divisions with the year groups they cover (those of every copy of a repeated division). */
export function normaliseDivisions(
  ctx: NormaliseContext,
  rows: readonly ReadRow<'schoolDivisions'>[],
  refs: References,
): void {
  addRowEntities(
    ctx,
    'division',
    rows,
    DIVISION_SOURCES,
    (d, copies) => {
      const years = refsById(
        ctx,
        refs.yearIds,
        [...new Set(copies.flatMap((c) => c.years.map((y) => y.yearId)))],
        {
          datasetId: 'schoolDivisions',
          recordId: d.id,
          field: 'Years/Year/@YearId',
          targetName: 'year group',
        },
      );
      return entity({ id: d.id, name: d.name, code: d.code, yearGroupIds: sortedUnique(years) });
    },
    DIVISION_EVERY_COPY,
  );
}

/** Academic or boarding houses (one table) with their house masters. */
export function normaliseHouses(
  ctx: NormaliseContext,
  datasetId: 'academicHouses' | 'boardingHouses',
  rows: readonly ReadRow<'academicHouses' | 'boardingHouses'>[],
  refs: References,
): void {
  const type = datasetId === 'academicHouses' ? 'academicHouse' : 'boardingHouse';
  addRowEntities(ctx, type, rows, HOUSE_SOURCES, (h) => {
    const staff = recordStaffLinks(ctx, refs, datasetId, h.id);
    return entity({
      id: h.id,
      name: h.name,
      code: h.code,
      type: h.type,
      sex: h.sex,
      houseMasterStaffId: staff(h.houseMasterId, h.houseMasterUserCode, 'HouseMaster'),
      assistantHouseMasterStaffId: staff(
        h.assistantHouseMasterId,
        h.assistantHouseMasterUserCode,
        'AssistantHouseMaster',
      ),
    });
  });
}

/** School forms (`Form/@Id` = the form name) with year group and tutors. */
export function normaliseForms(
  ctx: NormaliseContext,
  rows: readonly ReadRow<'schoolForms'>[],
  refs: References,
): void {
  addRowEntities(ctx, 'form', rows, FORM_SOURCES, (f) => {
    const staff = recordStaffLinks(ctx, refs, 'schoolForms', f.id);
    return entity({
      id: f.id,
      name: f.name ?? f.id,
      yearGroupId: refById(ctx, refs.yearIds, f.yearId, {
        datasetId: 'schoolForms',
        recordId: f.id,
        field: '@YearId',
        targetName: 'year group',
      }),
      tutorStaffId: staff(f.tutorId, f.tutorUserCode, 'Tutor'),
      assistantTutorStaffId: staff(f.assistantTutorId, f.assistantTutorUserCode, 'AssistantTutor'),
      secondAssistantTutorStaffId: staff(
        f.secondAssistantTutorId,
        f.secondAssistantTutorUserCode,
        'SecondAssistantTutor',
      ),
      roomId: f.roomId,
    });
  });
}
