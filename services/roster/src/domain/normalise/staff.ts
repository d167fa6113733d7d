import { addRowEntities, compact, entity, everyCopyItems, keepStored, sortedUnique } from './context';
import type { EveryCopy, FieldSources, NormaliseContext, ReadRow } from './context';
import { itemField } from '../keep-stored';
import { refsById } from './references';
import type { References } from './references';

/** Roster staff fields ← the Current Staff table fields they are made from. */
export const STAFF_SOURCES = {
  personId: ['personId'],
  personGuid: ['personGuid'],
  userCode: ['userCode'],
  userName: ['userName'],
  initials: ['initials'],
  title: ['title'],
  forename: ['forename'],
  middleNames: ['middleNames'],
  surname: ['surname'],
  preferredName: ['preferredName'],
  fullName: ['fullName', 'forename', 'surname'],
  salutation: ['salutation'],
  gender: ['gender'],
  dob: ['dob'],
  email: ['schoolEmailAddress'],
  mobile: ['schoolMobileNumber'],
  teaching: ['teachingStaff'],
  leavingDate: ['leavingDate'],
  roles: ['roles', 'roles.id', 'roles.name'],
  divisionIds: ['divisions', 'divisions.id'],
} as const satisfies FieldSources<'currentStaff'>;

/** Read from every copy of a repeated staff member (a join sends one per role or division). */
export const STAFF_EVERY_COPY = {
  roles: STAFF_SOURCES.roles,
  divisionIds: STAFF_SOURCES.divisionIds,
} as const satisfies EveryCopy<'currentStaff'>;

/**
 * Staff entities (`StaffMember/@Id`), divisions checked against the school divisions. The roles and
 * divisions of every copy of a repeated staff member are read; a role two copies name differently
 * keeps its stored role.
 */
export function normaliseStaff(
  ctx: NormaliseContext,
  rows: readonly ReadRow<'currentStaff'>[],
  refs: References,
): void {
  addRowEntities(
    ctx,
    'staff',
    rows,
    STAFF_SOURCES,
    (s, copies) => {
      const roles = everyCopyItems(
        copies.map((c) => c.roles.map((r) => compact({ id: r.id, name: r.name }))),
        (r) => String(r.id),
      );
      keepStored(
        ctx,
        'staff',
        s.id,
        roles.conflicting.map((id) => itemField('roles', 'id', id)),
      );
      const divisions = refsById(
        ctx,
        refs.divisionIds,
        [...new Set(copies.flatMap((c) => c.divisions.map((d) => d.id)))],
        {
          datasetId: 'currentStaff',
          recordId: s.id,
          field: 'Divisions/Division/@Id',
          targetName: 'school division',
        },
      );
      return entity({
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
        roles: roles.items,
        divisionIds: sortedUnique(divisions),
      });
    },
    STAFF_EVERY_COPY,
  );
}
