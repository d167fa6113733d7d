import type { RawElement } from '@isams-sync/isams';
import { contact, department, el, pupil, set, setList, staff, year } from './raw';
import { withText } from './school-feed';
import type { Datasets } from './school-feed';

/** Which school's people: iSAMS numbers people per school, so school B reuses A's ids for other people. */
export type Which = 'A' | 'B';

export interface NamedSchoolOptions {
  /** Pupil ids present (default 1…60). */
  pupils?: number[];
  /** Pupils whose surname changed (a marriage, a correction): same date of birth and identifiers. */
  renamed?: number[];
  /** Contacts per pupil (default 1): contact person ids `<pupil>0<k>`, contact records `9<pupil>0<k>`. */
  contactsOf?: (pupilId: number) => number;
  /** Teaching sets a pupil is in (default: set 70). */
  setsOf?: (pupilId: number) => string[];
  /** Extra contact records. */
  extraContacts?: RawElement[];
}

const text = (name: string, value: string): RawElement => el(name, {}, value);

/** A pupil of school `which`: name, date of birth, PersonGuid and SchoolId differ between A and B. */
export function namedPupil(which: Which, id: number, surname?: string): RawElement {
  const p = pupil(
    String(id),
    [
      text('DOB', which === 'A' ? `2012-0${1 + (id % 9)}-1${id % 10}` : `2011-0${1 + (id % 9)}-2${id % 8}`),
      text('NCYear', '9'),
    ],
    { PersonGuid: `${which === 'A' ? 'aaaa' : 'bbbb'}-0000-${String(id).padStart(4, '0')}` },
  );
  const named = withText(
    withText(
      withText(p, 'Forename', `${which === 'A' ? 'Ann' : 'Bea'}${id}`),
      'Surname',
      surname ?? `${which}-Family${id}`,
    ),
    'SchoolId',
    `${which === 'A' ? 1 : 2}000${id}`,
  );
  return named;
}

/**
 * A school with 12 staff, its pupils in year 9, one department and three teaching sets, contacts
 * linked to their pupils and set lists. `A` and `B` use the same ids for different people.
 */
export function namedSchool(which: Which, opts: NamedSchoolOptions = {}): Datasets {
  const pupilIds = opts.pupils ?? Array.from({ length: 60 }, (_, i) => i + 1);
  const staffList = Array.from({ length: 12 }, (_, i) => {
    const id = String(i + 1);
    const s = staff(id, `${which}UC${id}`, [], { PersonGuid: `${which}-staff-${id}` });
    return withText(withText(s, 'Forename', `${which}Tom${id}`), 'Surname', `${which}Jones${id}`);
  });
  const contacts: RawElement[] = [];
  const lists: RawElement[] = [];
  for (const id of pupilIds) {
    for (let k = 1; k <= (opts.contactsOf?.(id) ?? 1); k += 1) {
      const personId = `${id}0${k}`;
      contacts.push(
        contact(`9${personId}`, personId, k === 1, [[String(id), 'Current']], `${which}Parent${personId}`),
      );
    }
    // Row ids stable per (pupil, set): a pupil joining or leaving does not renumber the others' rows.
    for (const setId of opts.setsOf?.(id) ?? ['70']) lists.push(setList(`${id}${setId}`, setId, String(id)));
  }
  return {
    currentStaff: staffList,
    currentPupils: pupilIds.map((id) =>
      namedPupil(which, id, opts.renamed?.includes(id) ? 'Married' : undefined),
    ),
    contacts: [...contacts, ...(opts.extraContacts ?? [])],
    yearGroups: [year('9', 'Year 9')],
    departmentsAndSubjects: [department('1', [['21', 'Maths']])],
    teachingSets: [
      set('70', '21', [['1', true]]),
      set('71', '21', [['2', true]]),
      set('72', '21', [['3', true]]),
    ],
    teachingSetLists: lists,
  };
}
