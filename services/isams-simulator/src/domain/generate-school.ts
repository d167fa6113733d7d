import { createRng } from './prng';
import type { Rng } from './prng';
import {
  ACADEMIC_HOUSE_NAMES,
  BOARDING_HOUSE_NAMES,
  ETHNICITIES,
  FORENAMES_F,
  FORENAMES_M,
  GROUP_CATEGORIES,
  GROUP_NAMES,
  LANGUAGES,
  MIDDLE_NAMES,
  NATIONALITIES,
  PROFESSIONS,
  SHARED_SUBJECT,
  STREETS,
  SUBJECTS,
  SURNAMES,
  TOWNS,
} from './names';
import type {
  Contact,
  ContactPerson,
  CustomGroup,
  Department,
  Division,
  Form,
  House,
  Pupil,
  SchoolModel,
  SchoolSize,
  SetListRow,
  StaffMember,
  Subject,
  TeachingSet,
  Year,
} from './school-model';

/** Exact row counts each generated size produces (current pupils/staff, contact people, sets, set-list rows). */
export interface SizeProfile {
  pupils: number;
  staff: number;
  contactPeople: number;
  sets: number;
  setListRows: number;
  academicHouses: number;
  boardingHouses: number;
  customGroups: number;
}

export const SIZE_PROFILES: Readonly<Record<SchoolSize, SizeProfile>> = {
  small: {
    pupils: 300,
    staff: 45,
    contactPeople: 600,
    sets: 80,
    setListRows: 1_500,
    academicHouses: 4,
    boardingHouses: 2,
    customGroups: 15,
  },
  medium: {
    pupils: 1_200,
    staff: 150,
    contactPeople: 2_400,
    sets: 320,
    setListRows: 7_500,
    academicHouses: 6,
    boardingHouses: 4,
    customGroups: 40,
  },
  large: {
    pupils: 3_000,
    staff: 400,
    contactPeople: 6_000,
    sets: 1_000,
    setListRows: 30_000,
    academicHouses: 8,
    boardingHouses: 6,
    customGroups: 80,
  },
};

/** NC years of a generated school: Nursery (-2) … Upper Sixth (13). */
export const NC_YEARS: readonly number[] = Array.from({ length: 16 }, (_, i) => i - 2);
const SET_YEARS = NC_YEARS.filter((y) => y >= 3);
const FORM_SIZE = 20;

const YEAR_NAMES: Record<number, [string, string]> = {
  [-2]: ['Nursery', 'N'],
  [-1]: ['Pre-Reception', 'PR'],
  [0]: ['Reception', 'R'],
};

function pad(n: number, width: number): string {
  return String(n).padStart(width, '0');
}

/** `YYYY-MM-DDTHH:MM:SS`, the Batch API date format (reference §2.1). */
export function isamsDate(year: number, month: number, day: number, h = 0, m = 0, s = 0): string {
  return `${year}-${pad(month, 2)}-${pad(day, 2)}T${pad(h, 2)}:${pad(m, 2)}:${pad(s, 2)}`;
}

function randomStamp(rng: Rng, fromYear = 2019, toYear = 2025): string {
  return isamsDate(
    rng.int(fromYear, toYear),
    rng.int(1, 12),
    rng.int(1, 28),
    rng.int(7, 18),
    rng.int(0, 59),
    rng.int(0, 59),
  );
}

function asciiLetters(text: string): string {
  return text.normalize('NFD').replace(/[^A-Za-z]/g, '');
}

function initialOf(name: string): string {
  return (name.trim()[0] ?? '').toUpperCase();
}

interface Ids {
  next(table: string): number;
  snapshot(): Record<string, number>;
}

function idAllocator(starts: Record<string, number>): Ids {
  const next = { ...starts };
  return {
    next: (table) => {
      const id = next[table] ?? 1;
      next[table] = id + 1;
      return id;
    },
    snapshot: () => ({ ...next }),
  };
}

export const ID_STARTS: Readonly<Record<string, number>> = {
  person: 1_000,
  staff: 10,
  pupil: 700,
  contact: 3_000,
  house: 1,
  division: 1,
  divisionYear: 60,
  department: 1,
  subject: 20,
  teachingForm: 300,
  set: 500,
  setTeacher: 800,
  setList: 12_000,
  category: 1,
  customGroup: 70,
  membership: 9_000,
  role: 1,
  family: 500,
};

/** Builds a staff member's derived name fields. Exported for mutations that add staff. */
export function makeStaff(
  rng: Rng,
  ids: { next(table: string): number },
  divisionIds: number[],
): StaffMember {
  const female = rng.chance(0.55);
  const forename = rng.pick(female ? FORENAMES_F : FORENAMES_M);
  const surname = rng.pick(SURNAMES);
  const middle = rng.chance(0.5) ? rng.pick(MIDDLE_NAMES) : '';
  const title = female ? rng.pick(['Mrs', 'Ms', 'Miss', 'Dr']) : rng.pick(['Mr', 'Dr']);
  const userCode = `${asciiLetters(forename)}${asciiLetters(surname)}${rng.digits(11)}`;
  const teaching = rng.chance(0.75);
  const id = ids.next('staff');
  return {
    id,
    personId: ids.next('person'),
    personGuid: rng.guid(),
    ...(rng.chance(0.3) ? { previousMisId: String(1000 + id) } : {}),
    initials: `${initialOf(forename)}${middle ? initialOf(middle) : ''}${initialOf(asciiLetters(surname))}`,
    userCode,
    ...(rng.chance(0.8) ? { userName: `${initialOf(forename)}${asciiLetters(surname)}`.toUpperCase() } : {}),
    title,
    forename,
    middleNames: middle,
    surname,
    fullName: `${forename} ${surname}`,
    nameInitials: `${initialOf(forename)} ${initialOf(surname)}`,
    preferredName: forename,
    salutation: `${title} ${surname}`,
    ...(rng.chance(0.9) ? { dob: isamsDate(rng.int(1958, 1998), rng.int(1, 12), rng.int(1, 28)) } : {}),
    ...(rng.chance(0.95) ? { gender: female ? 'F' : 'M' } : {}),
    ...(rng.chance(0.97)
      ? {
          schoolEmailAddress: `${asciiLetters(forename)[0]?.toLowerCase() ?? 'x'}${asciiLetters(surname).toLowerCase()}${id}@example-school.org`,
        }
      : {}),
    schoolMobileNumber: '',
    personalMobileNumber: rng.chance(0.3) ? `07700 9${rng.digits(5)}` : '',
    teachingStaff: teaching,
    roles: teaching ? [{ id: 4, name: 'Teacher' }] : [{ id: 7, name: 'Support Staff' }],
    divisionIds,
    current: true,
  };
}

export interface PupilSeed {
  ncYear: number;
  surname?: string;
  familyId: number;
  status?: Pupil['status'];
}

/** Builds one pupil (no form/house yet). Exported for mutations that add joiners. */
export function makePupil(
  rng: Rng,
  ids: { next(table: string): number },
  seed: PupilSeed,
  usedSchoolIds: Set<string>,
): Pupil {
  const female = rng.chance(0.5);
  const forename = rng.pick(female ? FORENAMES_F : FORENAMES_M);
  const surname = seed.surname ?? rng.pick(SURNAMES);
  const middle = rng.chance(0.6) ? rng.pick(MIDDLE_NAMES) : '';
  const id = ids.next('pupil');
  let schoolId = rng.digits(12);
  while (usedSchoolIds.has(schoolId)) schoolId = rng.digits(12);
  usedSchoolIds.add(schoolId);
  const birthYear = 2019 - seed.ncYear;
  const enrolYear = Math.min(2025, Math.max(2016, birthYear + 4 + rng.int(0, 8)));
  const pupil: Pupil = {
    id,
    personId: ids.next('person'),
    personGuid: rng.guid().toLowerCase(),
    ...(rng.chance(0.85) ? { upn: `Z${schoolId}` } : {}),
    schoolCode: `EX${pad(id, 5)}`,
    schoolId,
    ...(rng.chance(0.9)
      ? {
          userCode: `${asciiLetters(forename).toUpperCase()}${asciiLetters(surname).toUpperCase()}${rng.digits(10)}`,
        }
      : {}),
    ...(rng.chance(0.9) ? { userName: `${asciiLetters(surname)}${initialOf(forename)}` } : {}),
    title: rng.chance(0.3) ? '' : female ? 'Miss' : 'Mr',
    forename,
    surname,
    middlename: middle,
    initials: `${initialOf(forename)}${middle ? initialOf(middle) : ''}${initialOf(asciiLetters(surname))}`,
    preferredname: rng.chance(0.15) ? forename.slice(0, 3) : forename,
    fullname: `${forename} ${surname}`,
    gender: female ? 'F' : 'M',
    dob: isamsDate(rng.int(birthYear - 1, birthYear), rng.int(1, 12), rng.int(1, 28)),
    ncYear: seed.ncYear,
    ...(rng.chance(0.9)
      ? {
          emailAddress: `${asciiLetters(forename).toLowerCase()}.${asciiLetters(surname).toLowerCase()}${id}@pupils.example-school.org`,
        }
      : {}),
    ...(rng.chance(0.4) ? { mobileNumber: rng.chance(0.5) ? '' : `07700 8${rng.digits(5)}` } : {}),
    pupilType: seed.ncYear >= 7 && rng.chance(0.3) ? rng.pick(['Boarder', 'Day Boarder']) : 'Day',
    enrolmentDate: isamsDate(enrolYear, 9, rng.int(1, 8)),
    ...(rng.chance(0.85)
      ? { enrolmentTerm: rng.pick(['Michaelmas', 'Term 2', 'Summer']), enrolmentSchoolYear: enrolYear }
      : {}),
    familyId: seed.familyId,
    nationalities: rng.chance(0.2)
      ? `${rng.pick(NATIONALITIES)},${rng.pick(NATIONALITIES)}`
      : rng.pick(NATIONALITIES),
    languages: rng.chance(0.2) ? `English,${rng.pick(LANGUAGES)}` : 'English',
    ...(rng.chance(0.8) ? { ethnicity: rng.pick(ETHNICITIES) } : {}),
    status: seed.status ?? 1,
  };
  return pupil;
}

function makeContactPerson(rng: Rng, ids: Ids, female: boolean, surname: string): ContactPerson {
  const forename = rng.pick(female ? FORENAMES_F : FORENAMES_M);
  const email = rng.chance(0.9)
    ? rng.chance(0.05)
      ? `${asciiLetters(forename).toLowerCase()}@example.com; ${asciiLetters(surname).toLowerCase()}.family@example.net`
      : `${asciiLetters(forename).toLowerCase()}.${asciiLetters(surname).toLowerCase()}@example.com`
    : undefined;
  return {
    personId: ids.next('person'),
    title: female ? rng.pick(['Mrs', 'Ms', 'Dr']) : rng.pick(['Mr', 'Dr']),
    forename,
    middleNames: rng.chance(0.3) ? rng.pick(MIDDLE_NAMES) : '',
    surname,
    ...(email !== undefined ? { emailAddress: email } : {}),
    ...(rng.chance(0.8) ? { mobile: `07700 9${rng.digits(5)}` } : {}),
    ...(rng.chance(0.7) ? { profession: rng.pick(PROFESSIONS) } : {}),
  };
}

/** What every generation step shares: the seeded random source, the id allocator and the size. */
interface Generation {
  readonly rng: Rng;
  readonly ids: Ids;
  readonly profile: SizeProfile;
}

/**
 * Generates a school deterministically: the same (seed, size) gives the same model, byte for byte.
 * The steps below draw from one random source in a fixed order — reordering them changes every
 * simulated school (and the fixtures of the tests that use them).
 */
export function generateSchool(
  seed: number,
  size: SchoolSize,
  schoolName = `Simulated School ${seed}`,
): SchoolModel {
  const g: Generation = {
    rng: createRng(`${seed}:${size}`),
    ids: idAllocator(ID_STARTS),
    profile: SIZE_PROFILES[size],
  };
  const adminUserCode = `ADMIN${g.rng.digits(12)}lh`;
  const divisions = generateDivisions(g);
  const { staff, teachers, leftStaff } = generateStaff(g, divisions);
  const years = generateYears(g, teachers);
  const academicHouses = ACADEMIC_HOUSE_NAMES.slice(0, g.profile.academicHouses).map((n) =>
    makeHouse(g, staff, teachers, 'Academic', n),
  );
  const boardingHouses = BOARDING_HOUSE_NAMES.slice(0, g.profile.boardingHouses).map((n) =>
    makeHouse(g, staff, teachers, 'Boarding', n),
  );
  const { pupils, perYear } = generatePupils(g);
  const forms = generateForms(g, perYear, teachers, leftStaff);
  const current = pupils.filter((p) => p.status === 1);
  placePupils(g, { pupils, current, forms, divisions, academicHouses, boardingHouses });
  const contacts = generateContacts(g, groupFamilies(g, pupils));
  const { departments, subjects, pshe } = generateDepartments(g);
  const teachingForms = forms
    .filter((f) => f.yearId >= 7 && f.yearId <= 11)
    .map((f) => ({
      id: g.ids.next('teachingForm'),
      formCode: f.id,
      timetableCode: `${f.id}/PSHE`,
      subjectId: pshe.id,
    }));
  const sets = generateSets(g, subjects, pshe, teachers, leftStaff);
  const leavers = pupils.filter((p) => p.status === -1);
  const setLists = generateSetLists(g, sets, current, leavers, adminUserCode);
  const { customGroupCategories, customGroups, memberships } = generateCustomGroups(
    g,
    teachers,
    current,
    leavers,
  );

  return {
    schoolName,
    adminUserCode,
    staff,
    pupils,
    contacts,
    academicHouses,
    boardingHouses,
    forms,
    years,
    divisions,
    departments,
    subjects,
    teachingForms,
    sets,
    setLists,
    customGroupCategories,
    customGroups,
    memberships,
    nextId: g.ids.snapshot(),
  };
}

/** The four divisions and the NC years each holds. */
function generateDivisions({ rng, ids }: Generation): Division[] {
  const divisionSpecs: Array<[string, string, number[]]> = [
    ['Pre Prep School', 'PP', [-2, -1, 0, 1, 2]],
    ['Prep School', 'PS', [3, 4, 5, 6]],
    ['Senior School', 'SS', [7, 8, 9, 10, 11]],
    ['Sixth Form', '6F', [12, 13]],
  ];
  return divisionSpecs.map(([name, code, yrs]) => ({
    id: ids.next('division'),
    name,
    code,
    lastUpdated: randomStamp(rng),
    years: yrs.map((yearId) => ({ id: ids.next('divisionYear'), yearId })),
  }));
}

/** Staff: current ones (the last one not fully set up), then two leavers still referenced as tutor/teacher. */
function generateStaff(
  { rng, ids, profile }: Generation,
  divisions: Division[],
): { staff: StaffMember[]; teachers: StaffMember[]; leftStaff: StaffMember[] } {
  const staff: StaffMember[] = [];
  for (let i = 0; i < profile.staff; i += 1) {
    const divs = rng.chance(0.15)
      ? [rng.pick(divisions).id, rng.pick(divisions).id]
      : [rng.pick(divisions).id];
    staff.push(makeStaff(rng, ids, [...new Set(divs)]));
  }
  const teachers = staff.filter((s) => s.teachingStaff);
  const notSetUp = staff[staff.length - 1] as StaffMember;
  // "New member of staff not fully set up": whitespace-only initials and full name (reference §2.1, §4.7).
  notSetUp.initials = ' ';
  notSetUp.fullName = '   ';
  notSetUp.roles = [];
  notSetUp.divisionIds = [];
  const firstTeacher = teachers[0] as StaffMember;
  firstTeacher.roles.push(
    { id: 9, name: 'Form Tutor' },
    { id: 12, name: 'Head of Department - Mathematics' },
  );
  const leftStaff: StaffMember[] = [0, 1].map(() => ({ ...makeStaff(rng, ids, []), current: false }));
  staff.push(...leftStaff);
  return { staff, teachers, leftStaff };
}

function generateYears({ rng }: Generation, teachers: StaffMember[]): Year[] {
  return NC_YEARS.map((y) => {
    const [name, code] = YEAR_NAMES[y] ?? [`Year ${y}`, `Y${y}`];
    const tutor = y >= 7 ? rng.pick(teachers) : undefined;
    return {
      id: y,
      authorId: 1,
      ...(tutor ? { tutorId: tutor.id } : {}),
      ...(y >= 12 ? { assistantTutorId: rng.pick(teachers).id } : {}),
      name,
      code,
      email: y >= 7 ? `year${y}@example-school.org` : '',
      website: '',
      lastUpdated: randomStamp(rng),
    };
  });
}

/** A house (one iSAMS table for both kinds: ids unique across them). */
function makeHouse(
  { rng, ids }: Generation,
  staff: StaffMember[],
  teachers: StaffMember[],
  type: House['type'],
  name: string,
): House {
  return {
    id: ids.next('house'),
    type,
    houseMasterId: rng.pick(staff.filter((s) => s.current)).id,
    ...(rng.chance(0.4) ? { assistantHouseMasterId: rng.pick(teachers).id } : {}),
    name,
    code: asciiLetters(name).slice(0, 3).toUpperCase(),
    ...(rng.chance(0.6) ? { sex: type === 'Boarding' ? rng.pick(['M', 'F']) : 'U' } : {}),
    ...(type === 'Boarding'
      ? {
          address1: `${name}, School Lane`,
          town: 'Exampleton',
          postcode: `EX1 ${rng.int(1, 9)}ZZ`,
          telephone: `01234 5${rng.digits(5)}`,
        }
      : {}),
    ...(rng.chance(0.7) ? { primaryEmail: `${asciiLetters(name).toLowerCase()}@example-school.org` } : {}),
  };
}

/** Pupils: current ones spread over the years, plus leavers and a few future pupils. */
function generatePupils({ rng, ids, profile }: Generation): { pupils: Pupil[]; perYear: number[] } {
  const usedSchoolIds = new Set<string>();
  const pupils: Pupil[] = [];
  const perYear = NC_YEARS.map(
    (_, i) => Math.floor(profile.pupils / NC_YEARS.length) + (i < profile.pupils % NC_YEARS.length ? 1 : 0),
  );
  NC_YEARS.forEach((y, i) => {
    for (let k = 0; k < (perYear[i] ?? 0); k += 1) {
      pupils.push(makePupil(rng, ids, { ncYear: y, familyId: 0 }, usedSchoolIds));
    }
  });
  const leaverCount = Math.max(5, Math.round(profile.pupils * 0.03));
  for (let k = 0; k < leaverCount; k += 1) {
    pupils.push(makePupil(rng, ids, { ncYear: rng.pick(SET_YEARS), familyId: 0, status: -1 }, usedSchoolIds));
  }
  for (let k = 0; k < 3; k += 1)
    pupils.push(makePupil(rng, ids, { ncYear: -2, familyId: 0, status: 0 }, usedSchoolIds));
  return { pupils, perYear };
}

/** Forms per year; pupils link by form name. One form has no tutor, one a tutor who has left. */
function generateForms(
  { rng }: Generation,
  perYear: number[],
  teachers: StaffMember[],
  leftStaff: StaffMember[],
): Form[] {
  const forms: Form[] = [];
  NC_YEARS.forEach((y, i) => {
    const count = Math.max(1, Math.round((perYear[i] ?? 0) / FORM_SIZE));
    for (let k = 0; k < count; k += 1) {
      const letter = 'ABCDEFGHJKLMNPRSTUVW'[k] ?? String(k);
      const tutor = rng.pick(teachers);
      const formId =
        y <= 0
          ? `Y${y}-${letter}`
          : y >= 12
            ? `${y}/${tutor.initials.trim() || letter}${letter}`
            : `${y}${letter}`;
      forms.push({
        id: formId,
        tutorId: tutor.id,
        ...(rng.chance(0.3) ? { assistantTutorId: rng.pick(teachers).id } : {}),
        ...(rng.chance(0.05) ? { secondAssistantTutorId: rng.pick(teachers).id } : {}),
        yearId: y,
        ...(rng.chance(0.8) ? { roomId: rng.int(1, 120) } : {}),
        authorId: 1,
        emailAddress: rng.chance(0.5) ? `${formId.replace('/', '')}@example-school.org` : '',
        website: '',
        lastUpdated: randomStamp(rng),
      });
    }
  });
  const formsWithTutor = forms.filter((f) => f.tutorId !== undefined);
  delete (formsWithTutor[1] as Form).tutorId;
  (formsWithTutor[2] as Form).tutorId = (leftStaff[0] as StaffMember).id;
  return forms;
}

/** Puts every pupil in a form, division and houses; then the quirks real schools have. */
function placePupils(
  { rng }: Generation,
  school: {
    pupils: Pupil[];
    current: Pupil[];
    forms: Form[];
    divisions: Division[];
    academicHouses: House[];
    boardingHouses: House[];
  },
): void {
  const divisionOfYear = (y: number): Division =>
    school.divisions.find((d) => d.years.some((dy) => dy.yearId === y)) as Division;
  for (const p of school.pupils) {
    const yearForms = school.forms.filter((f) => f.yearId === p.ncYear);
    p.form = rng.pick(yearForms).id;
    p.divisionId = divisionOfYear(p.ncYear).id;
    if (rng.chance(0.95)) p.academicHouseId = rng.pick(school.academicHouses).id;
    if (p.pupilType !== 'Day') p.boardingHouseId = rng.pick(school.boardingHouses).id;
  }
  // Quirks: pupils with no form, a form name matching no form, a missing preferred name, a shared SchoolCode.
  const quirkPupils = rng.shuffle(school.current).slice(0, 6);
  delete (quirkPupils[0] as Pupil).form;
  delete (quirkPupils[1] as Pupil).form;
  (quirkPupils[2] as Pupil).form = '9Z';
  delete (quirkPupils[3] as Pupil).preferredname;
  (quirkPupils[4] as Pupil).schoolCode = (quirkPupils[5] as Pupil).schoolCode;
}

/** Families: siblings share a family (and its surname) and contact records. */
function groupFamilies({ rng, ids }: Generation, pupils: Pupil[]): Pupil[][] {
  const families: Pupil[][] = [];
  for (let i = 0; i < pupils.length;) {
    const sizeOfFamily = Math.min(pupils.length - i, rng.chance(0.7) ? 1 : rng.int(2, 3));
    const members = pupils.slice(i, i + sizeOfFamily);
    const familyId = ids.next('family');
    const surname = (members[0] as Pupil).surname;
    for (const m of members) {
      m.familyId = familyId;
      m.surname = surname;
      m.fullname = `${m.forename} ${surname}`;
    }
    families.push(members);
    i += sizeOfFamily;
  }
  return families;
}

/** Contact records until the profile's number of contact people: joint parents, single parents, relatives. */
function generateContacts({ rng, ids, profile }: Generation, families: Pupil[][]): Contact[] {
  const contacts: Contact[] = [];
  let people = 0;
  const addContact = (family: Pupil[], relationship: string, persons: ContactPerson[]): void => {
    const town = rng.pick(TOWNS);
    contacts.push({
      id: ids.next('contact'),
      people: persons,
      relationshipRaw: relationship,
      ...(rng.chance(0.95)
        ? {
            address: {
              lines: rng.chance(0.2)
                ? [`Flat ${rng.int(1, 9)}`, `${rng.int(1, 200)} ${rng.pick(STREETS)}`]
                : [`${rng.int(1, 200)} ${rng.pick(STREETS)}`],
              town,
              postcode: `EX${rng.int(1, 20)} ${rng.int(1, 9)}${'ABDEFGHJ'[rng.int(0, 7)]}${'LNPQRSTU'[rng.int(0, 7)]}`,
              ...(rng.chance(0.7) ? { country: 'United Kingdom' } : {}),
            },
          }
        : {}),
      ...(rng.chance(0.6) ? { telephone: `01234 ${rng.digits(6)}` } : {}),
      mailMergeAll: rng.chance(0.8),
      correspondenceMailMerge: rng.chance(0.5),
      pupils: family.map((p) => ({ pupilId: p.id })),
    });
    people += persons.length;
  };
  for (let pass = 0; people < profile.contactPeople; pass += 1) {
    for (const family of families) {
      const remaining = profile.contactPeople - people;
      if (remaining <= 0) break;
      const surname = (family[0] as Pupil).surname;
      if (pass === 0 && remaining >= 2 && rng.chance(0.5)) {
        addContact(family, rng.pick(['Parents', 'Mother & Father', 'Parents']), [
          makeContactPerson(rng, ids, true, surname),
          makeContactPerson(rng, ids, false, surname),
        ]);
      } else if (pass === 0) {
        addContact(family, rng.pick(['Mother', 'mother_copy', 'Mother']), [
          makeContactPerson(rng, ids, true, surname),
        ]);
        if (profile.contactPeople - people > 0 && rng.chance(0.8))
          addContact(family, 'Father', [makeContactPerson(rng, ids, false, surname)]);
      } else {
        const female = rng.chance(0.5);
        addContact(
          family,
          female
            ? rng.pick(['Grandmother', 'Stepmother', 'Guardian'])
            : rng.pick(['Grandfather', 'Stepfather', 'Uncle']),
          [makeContactPerson(rng, ids, female, rng.chance(0.7) ? surname : rng.pick(SURNAMES))],
        );
      }
    }
  }
  return contacts;
}

/** Departments and subjects; one subject under two departments; a department with no subjects. */
function generateDepartments({ ids }: Generation): {
  departments: Department[];
  subjects: Subject[];
  pshe: Subject;
} {
  const departments: Department[] = [];
  const subjects: Subject[] = [];
  for (const [dept, subject, code] of SUBJECTS) {
    let d = departments.find((x) => x.name === dept);
    if (!d) {
      d = { id: ids.next('department'), name: dept, subjectIds: [] };
      departments.push(d);
    }
    const s: Subject = { id: ids.next('subject'), name: subject, code };
    subjects.push(s);
    d.subjectIds.push(s.id);
  }
  const shared = subjects.find((s) => s.name === SHARED_SUBJECT[1]) as Subject;
  departments.find((d) => d.name === SHARED_SUBJECT[0])?.subjectIds.push(shared.id);
  departments.push({ id: ids.next('department'), name: 'Pastoral', subjectIds: [] });
  return { departments, subjects, pshe: subjects.find((s) => s.code === 'PS') as Subject };
}

/** Sets over the set years; some without teachers, some with several; Name ≠ SetCode sometimes. */
function generateSets(
  { rng, ids, profile }: Generation,
  subjects: Subject[],
  pshe: Subject,
  teachers: StaffMember[],
  leftStaff: StaffMember[],
): TeachingSet[] {
  const sets: TeachingSet[] = [];
  const setSubjects = subjects.filter((s) => s.id !== pshe.id);
  for (let k = 0; k < profile.sets; k += 1) {
    const yearId = SET_YEARS[k % SET_YEARS.length] as number;
    const ordinal = Math.floor(k / SET_YEARS.length);
    const subject = setSubjects[ordinal % setSubjects.length] as Subject;
    const setNumber = Math.floor(ordinal / setSubjects.length) + 1;
    const setCode = `${yearId}/${subject.code}${setNumber}`;
    const teacherCount = k % 23 === 5 ? 0 : rng.chance(0.2) ? rng.int(2, 3) : 1;
    const setTeachers = rng.shuffle(teachers).slice(0, teacherCount);
    if (k === 7 && setTeachers.length > 0) setTeachers[0] = leftStaff[1] as StaffMember;
    sets.push({
      id: ids.next('set'),
      subjectId: subject.id,
      yearId,
      authorId: 1,
      setNumber,
      block: 'ABCDEF'[rng.int(0, 5)] as string,
      setCode,
      name: k % 15 === 3 ? `${yearId} ${subject.name} Set ${setNumber}` : setCode,
      teachers: setTeachers.map((t, i) => ({ id: ids.next('setTeacher'), staffId: t.id, primary: i === 0 })),
      description: rng.chance(0.1) ? `${subject.name} <extension> & support` : '',
      lastUpdated: randomStamp(rng),
    });
  }
  return sets;
}

/** Set lists: exact total = main rows + dangling leaver rows + duplicate (set, pupil) rows. */
function generateSetLists(
  { rng, ids, profile }: Generation,
  sets: TeachingSet[],
  current: Pupil[],
  leavers: Pupil[],
  adminUserCode: string,
): SetListRow[] {
  const setLists: SetListRow[] = [];
  const dangling = Math.max(3, Math.round(profile.setListRows * 0.01));
  const duplicates = Math.max(3, Math.round(profile.setListRows * 0.005));
  const main = profile.setListRows - dangling - duplicates;
  const byYear = new Map<number, Pupil[]>();
  for (const p of current) byYear.set(p.ncYear, [...(byYear.get(p.ncYear) ?? []), p]);
  const addRow = (setId: number, pupilId: number): void => {
    const author = rng.chance(0.3) ? '' : adminUserCode;
    setLists.push({
      id: ids.next('setList'),
      setId,
      pupilId,
      authorId: 1,
      author,
      lastUpdated: rng.chance(0.2) ? '' : randomStamp(rng, 2023, 2025),
    });
  };
  let carry = 0;
  sets.forEach((set, i) => {
    const quota = Math.floor(main / sets.length) + (i < main % sets.length ? 1 : 0) + carry;
    const pool = byYear.get(set.yearId) ?? [];
    const start = rng.int(0, Math.max(0, pool.length - 1));
    const take = Math.min(quota, pool.length);
    for (let k = 0; k < take; k += 1) addRow(set.id, (pool[(start + k) % pool.length] as Pupil).id);
    carry = quota - take;
  });
  for (let k = 0; k < dangling; k += 1) addRow(rng.pick(sets).id, rng.pick(leavers).id);
  for (let k = 0; k < duplicates + carry; k += 1) {
    const original = setLists[rng.int(0, main - carry - 1)] as SetListRow;
    addRow(original.setId, original.pupilId);
  }
  return setLists;
}

/** Custom groups: some deleted, some expired; memberships include leavers. */
function generateCustomGroups(
  { rng, ids, profile }: Generation,
  teachers: StaffMember[],
  current: Pupil[],
  leavers: Pupil[],
): Pick<SchoolModel, 'customGroupCategories' | 'customGroups' | 'memberships'> {
  const customGroupCategories = GROUP_CATEGORIES.map((name) => ({ id: ids.next('category'), name }));
  const customGroups: CustomGroup[] = [];
  for (let k = 0; k < profile.customGroups; k += 1) {
    const author = rng.pick(teachers);
    const expired = k % 7 === 2;
    const noExpiry = k % 5 === 0;
    customGroups.push({
      id: ids.next('customGroup'),
      authorId: rng.int(2, 400),
      name: `${GROUP_NAMES[k % GROUP_NAMES.length] as string}${k >= GROUP_NAMES.length ? ` ${Math.floor(k / GROUP_NAMES.length) + 1}` : ''}`,
      categoryId: rng.pick(customGroupCategories).id,
      shared: rng.chance(0.6),
      expiryDate: noExpiry
        ? ''
        : expired
          ? isamsDate(2023, 7, rng.int(1, 28))
          : isamsDate(2026, 7, rng.int(1, 28)),
      expiryDisable: noExpiry,
      author: author.userCode,
      deleted: k % 9 === 4,
    });
  }
  const memberships = customGroups.flatMap((g) =>
    rng
      .shuffle(current)
      .slice(0, rng.int(5, 25))
      .concat(rng.chance(0.3) ? [rng.pick(leavers)] : [])
      .map((p) => ({ id: 0, pupilId: p.id, customGroupId: g.id })),
  );
  for (const m of memberships) m.id = ids.next('membership');
  return { customGroupCategories, customGroups, memberships };
}
