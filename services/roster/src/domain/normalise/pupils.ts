import { addRowEntities, entity } from './context';
import type { FieldSources, NormaliseContext, ReadRow } from './context';
import { recordSites, refById, refByKey, staffByCode } from './references';
import type { IdSet, KeyMap, References } from './references';

export const PUPIL_SOURCES = {
  personId: ['personId'],
  personGuid: ['personGuid'],
  schoolId: ['schoolId'],
  schoolCode: ['schoolCode'],
  upn: ['upn'],
  userCode: ['userCode'],
  userName: ['userName'],
  title: ['title'],
  forename: ['forename'],
  middleName: ['middleName'],
  surname: ['surname'],
  preferredName: ['preferredName'],
  fullName: ['fullName', 'forename', 'surname'],
  initials: ['initials'],
  gender: ['gender'],
  dob: ['dob'],
  email: ['emailAddress'],
  mobile: ['mobileNumber'],
  pupilType: ['pupilType'],
  enrolmentDate: ['enrolmentDate'],
  familyId: ['familyId'],
  formId: ['form'],
  yearGroupId: ['ncYear'],
  academicHouseId: ['academicHouseId', 'academicHouse'],
  boardingHouseId: ['boardingHouseId', 'boardingHouse'],
  divisionId: ['divisionId', 'divisionName'],
  tutorStaffId: ['tutorUserCode'],
} as const satisfies FieldSources<'currentPupils'>;

/** Pupils (`Pupil/@Id`) with form, year, houses, division and tutor resolved. */
export function normalisePupils(
  ctx: NormaliseContext,
  rows: readonly ReadRow<'currentPupils'>[],
  refs: References,
): void {
  addRowEntities(ctx, 'pupil', rows, PUPIL_SOURCES, (p) => {
    const site = recordSites('currentPupils', p.id);
    /** A house or division: the modern id attribute, else the legacy name. */
    const link = (
      idValue: string | undefined,
      name: string | undefined,
      ids: IdSet,
      byName: KeyMap,
      field: string,
      targetName: string,
      idField = `@${field}Id`,
    ) =>
      idValue !== undefined
        ? refById(ctx, ids, idValue, site(idField, targetName))
        : refByKey(ctx, byName, name, site(field, targetName));
    return entity({
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
      formId: refById(ctx, refs.formIds, p.form, site('Form', 'school form')),
      yearGroupId: refById(ctx, refs.yearIds, p.ncYear, site('NCYear', 'year group')),
      academicHouseId: link(
        p.academicHouseId,
        p.academicHouse,
        refs.academicIds,
        refs.academicByName,
        'AcademicHouse',
        'academic house',
      ),
      boardingHouseId: link(
        p.boardingHouseId,
        p.boardingHouse,
        refs.boardingIds,
        refs.boardingByName,
        'BoardingHouse',
        'boarding house',
      ),
      divisionId: link(
        p.divisionId,
        p.divisionName,
        refs.divisionIds,
        refs.divisionByName,
        'DivisionName',
        'school division',
        '@DivisionId',
      ),
      tutorStaffId: staffByCode(ctx, refs, p.tutorUserCode, {
        datasetId: 'currentPupils',
        recordId: p.id,
        field: 'Tutor',
      }),
    });
  });
}
