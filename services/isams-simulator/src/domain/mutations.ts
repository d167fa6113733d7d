import { makePupil, makeStaff } from './generate-school';
import { createRng } from './prng';
import type { Rng } from './prng';
import type {
  Contact,
  ContactPerson,
  CustomGroupMembership,
  Pupil,
  SchoolModel,
  SetListRow,
  StaffMember,
  TeachingSet,
} from './school-model';
import { touch } from './simulated-school';
import type { SimulatedSchool } from './simulated-school';
import { SimErrors } from './simulator-errors';

/**
 * Scripted changes to a generated school's model, as a school office would make them in iSAMS.
 * Every change bumps the school's version; the served output changes only when the key's cache
 * expires or is refreshed. Patches use `null` to set a field to NULL (omitted in the output).
 */
export type Patch = Record<string, string | number | boolean | null>;

function editable(school: SimulatedSchool): { model: SchoolModel; rng: Rng } {
  if (!school.model || school.source.kind !== 'generated') throw SimErrors.SIM_NOT_MUTABLE();
  school.mutationCount += 1;
  return {
    model: school.model,
    rng: createRng(`${school.source.seed}:${school.source.size}:mutation:${school.mutationCount}`),
  };
}

function nextId(model: SchoolModel, table: string): number {
  const id = model.nextId[table] ?? 1;
  model.nextId[table] = id + 1;
  return id;
}

function idsOf(model: SchoolModel): { next(table: string): number } {
  return { next: (table) => nextId(model, table) };
}

function find<T extends { id: number | string }>(items: T[], id: number | string, entity: string): T {
  const item = items.find((x) => String(x.id) === String(id));
  if (!item) throw SimErrors.SIM_RECORD_NOT_FOUND({ entity, id });
  return item;
}

/**
 * Deletes record `id` of one of the model's lists (an unknown id → SIM_RECORD_NOT_FOUND) and marks the
 * school changed; returns the model.
 */
function deleteRecord(
  school: SimulatedSchool,
  list: 'contacts' | 'sets' | 'setLists' | 'memberships',
  id: number,
  entity: string,
): SchoolModel {
  const { model } = editable(school);
  const lists = model as unknown as Record<typeof list, Array<{ id: number }>>;
  find(lists[list], id, entity);
  lists[list] = lists[list].filter((r) => r.id !== id);
  touch(school);
  return model;
}

type FieldType = 'string' | 'number' | 'boolean';
const S = 'string' as const;
const N = 'number' as const;
const B = 'boolean' as const;

/** Patchable fields per entity (see school-model.ts); anything else is rejected. */
export const PATCHABLE: Readonly<Record<string, Readonly<Record<string, FieldType>>>> = {
  pupil: {
    divisionId: N,
    academicHouseId: N,
    boardingHouseId: N,
    upn: S,
    schoolCode: S,
    schoolId: S,
    userCode: S,
    userName: S,
    title: S,
    forename: S,
    surname: S,
    middlename: S,
    initials: S,
    preferredname: S,
    fullname: S,
    gender: S,
    dob: S,
    form: S,
    ncYear: N,
    emailAddress: S,
    mobileNumber: S,
    pupilType: S,
    enrolmentDate: S,
    enrolmentTerm: S,
    enrolmentSchoolYear: N,
    familyId: N,
    nationalities: S,
    languages: S,
    ethnicity: S,
    status: N,
  },
  staff: {
    previousMisId: S,
    initials: S,
    userCode: S,
    userName: S,
    title: S,
    forename: S,
    middleNames: S,
    surname: S,
    fullName: S,
    nameInitials: S,
    preferredName: S,
    salutation: S,
    dob: S,
    gender: S,
    schoolEmailAddress: S,
    schoolMobileNumber: S,
    personalMobileNumber: S,
    teachingStaff: B,
    current: B,
  },
  contact: { relationshipRaw: S, telephone: S, mailMergeAll: B, correspondenceMailMerge: B },
  contactPerson: {
    title: S,
    forename: S,
    middleNames: S,
    surname: S,
    emailAddress: S,
    mobile: S,
    profession: S,
  },
  set: {
    subjectId: N,
    yearId: N,
    setNumber: N,
    block: S,
    setCode: S,
    name: S,
    description: S,
    lastUpdated: S,
  },
};

function applyPatch<T extends object>(target: T, patch: Patch, entity: string): void {
  const fields = PATCHABLE[entity] ?? {};
  for (const [field, value] of Object.entries(patch)) {
    const type = fields[field];
    if (!type) throw SimErrors.SIM_INVALID_REQUEST({ reason: `${entity}.${field} cannot be patched` });
    if (value !== null && typeof value !== type)
      throw SimErrors.SIM_INVALID_REQUEST({ reason: `${entity}.${field} must be a ${type} or null` });
  }
  const record = target as Record<string, unknown>;
  for (const [field, value] of Object.entries(patch)) {
    if (value === null) delete record[field];
    else record[field] = value;
  }
}

/** Adds a new record to its list (the school's version moves on); returns it. */
function added<T>(school: SimulatedSchool, list: T[], record: T): T {
  list.push(record);
  touch(school);
  return record;
}

/** Applies the admin's patch to record `id` of one of the model's lists (an unknown id → SIM_RECORD_NOT_FOUND). */
function updateRecord<T extends { id: number | string }>(
  school: SimulatedSchool,
  listOf: (model: SchoolModel) => T[],
  id: number,
  patch: Patch,
  entity: string,
): T {
  const { model } = editable(school);
  const record = find(listOf(model), id, entity);
  applyPatch(record, patch, entity);
  touch(school);
  return record;
}

function assignForm(model: SchoolModel, rng: Rng, p: Pupil): void {
  const forms = model.forms.filter((f) => f.yearId === p.ncYear);
  if (forms.length > 0) p.form = rng.pick(forms).id;
  const division = model.divisions.find((d) => d.years.some((y) => y.yearId === p.ncYear));
  if (division) p.divisionId = division.id;
  if (model.academicHouses.length > 0) p.academicHouseId = rng.pick(model.academicHouses).id;
  if (p.pupilType !== 'Day' && model.boardingHouses.length > 0)
    p.boardingHouseId = rng.pick(model.boardingHouses).id;
}

export function addPupil(school: SimulatedSchool, input: { ncYear?: number } & Patch = {}): Pupil {
  const { model, rng } = editable(school);
  const { ncYear, ...patch } = input;
  const used = new Set(model.pupils.map((p) => p.schoolId));
  const p = makePupil(
    rng,
    idsOf(model),
    {
      ncYear: typeof ncYear === 'number' ? ncYear : rng.pick(model.years).id,
      familyId: nextId(model, 'family'),
    },
    used,
  );
  assignForm(model, rng, p);
  applyPatch(p, patch, 'pupil');
  return added(school, model.pupils, p);
}

export function updatePupil(school: SimulatedSchool, id: number, patch: Patch): Pupil {
  return updateRecord(school, (model) => model.pupils, id, patch, 'pupil');
}

/**
 * Removes a pupil from Current Students by making them a leaver. Like iSAMS, their set-list rows,
 * memberships and contact links stay (dangling) unless `purge` is set.
 */
export function removePupil(school: SimulatedSchool, id: number, purge = false): void {
  const { model } = editable(school);
  const p = find(model.pupils, id, 'pupil');
  p.status = -1;
  if (purge) {
    model.setLists = model.setLists.filter((r) => r.pupilId !== p.id);
    model.memberships = model.memberships.filter((m) => m.pupilId !== p.id);
    for (const c of model.contacts) c.pupils = c.pupils.filter((l) => l.pupilId !== p.id);
  }
  touch(school);
}

export function addStaff(school: SimulatedSchool, patch: Patch = {}): StaffMember {
  const { model, rng } = editable(school);
  const s = makeStaff(rng, idsOf(model), model.divisions.length > 0 ? [rng.pick(model.divisions).id] : []);
  applyPatch(s, patch, 'staff');
  return added(school, model.staff, s);
}

export function updateStaff(school: SimulatedSchool, id: number, patch: Patch): StaffMember {
  return updateRecord(school, (model) => model.staff, id, patch, 'staff');
}

/** Staff who leave disappear from Current Staff; forms, sets and houses keep referencing them. */
export function removeStaff(school: SimulatedSchool, id: number): void {
  const { model } = editable(school);
  find(model.staff, id, 'staff').current = false;
  touch(school);
}

export interface NewContact {
  relationshipRaw?: string;
  pupilIds: number[];
  /** One person, or two for a joint contact. */
  people: Array<Partial<Omit<ContactPerson, 'personId'>>>;
  telephone?: string;
}

export function addContact(school: SimulatedSchool, input: NewContact): Contact {
  const { model } = editable(school);
  for (const id of input.pupilIds) find(model.pupils, id, 'pupil');
  const c: Contact = {
    id: nextId(model, 'contact'),
    people: input.people.map((p) => ({
      personId: nextId(model, 'person'),
      title: p.title ?? '',
      forename: p.forename ?? '',
      middleNames: p.middleNames ?? '',
      surname: p.surname ?? '',
      ...(p.emailAddress !== undefined ? { emailAddress: p.emailAddress } : {}),
      ...(p.mobile !== undefined ? { mobile: p.mobile } : {}),
      ...(p.profession !== undefined ? { profession: p.profession } : {}),
    })),
    relationshipRaw: input.relationshipRaw ?? (input.people.length > 1 ? 'Parents' : 'Guardian'),
    ...(input.telephone !== undefined ? { telephone: input.telephone } : {}),
    mailMergeAll: true,
    correspondenceMailMerge: true,
    pupils: input.pupilIds.map((pupilId) => ({ pupilId })),
  };
  return added(school, model.contacts, c);
}

/** Patches a contact record; `person` selects which person (0 or 1) person-level fields go to. */
export function updateContact(school: SimulatedSchool, id: number, patch: Patch, person = 0): Contact {
  const { model } = editable(school);
  const c = find(model.contacts, id, 'contact');
  const personFields = new Set([
    'title',
    'forename',
    'middleNames',
    'surname',
    'emailAddress',
    'mobile',
    'profession',
  ]);
  const target = c.people[person];
  if (!target) throw SimErrors.SIM_RECORD_NOT_FOUND({ entity: `contact ${id} person`, id: person });
  applyPatch(
    target,
    Object.fromEntries(Object.entries(patch).filter(([k]) => personFields.has(k))),
    'contactPerson',
  );
  applyPatch(c, Object.fromEntries(Object.entries(patch).filter(([k]) => !personFields.has(k))), 'contact');
  touch(school);
  return c;
}

export function removeContact(school: SimulatedSchool, id: number): void {
  deleteRecord(school, 'contacts', id, 'contact');
}

export interface NewSet {
  subjectId: number;
  yearId: number;
  setCode: string;
  name?: string;
  block?: string;
  setNumber?: number;
  teacherStaffIds?: number[];
}

export function addSet(school: SimulatedSchool, input: NewSet): TeachingSet {
  const { model } = editable(school);
  find(model.subjects, input.subjectId, 'subject');
  const s: TeachingSet = {
    id: nextId(model, 'set'),
    subjectId: input.subjectId,
    yearId: input.yearId,
    authorId: 1,
    setNumber: input.setNumber ?? 1,
    block: input.block ?? 'A',
    setCode: input.setCode,
    name: input.name ?? input.setCode,
    teachers: (input.teacherStaffIds ?? []).map((staffId, i) => ({
      id: nextId(model, 'setTeacher'),
      staffId,
      primary: i === 0,
    })),
    description: '',
    lastUpdated: '2025-09-01T08:00:00',
  };
  return added(school, model.sets, s);
}

export function updateSet(
  school: SimulatedSchool,
  id: number,
  patch: Patch & { teacherStaffIds?: never },
  teacherStaffIds?: number[],
): TeachingSet {
  const { model } = editable(school);
  const s = find(model.sets, id, 'set');
  applyPatch(s, patch, 'set');
  if (teacherStaffIds)
    s.teachers = teacherStaffIds.map((staffId, i) => ({
      id: nextId(model, 'setTeacher'),
      staffId,
      primary: i === 0,
    }));
  touch(school);
  return s;
}

/** Deletes a set and its set-list rows. */
export function removeSet(school: SimulatedSchool, id: number): void {
  const model = deleteRecord(school, 'sets', id, 'set');
  model.setLists = model.setLists.filter((r) => r.setId !== id);
}

export function addSetListRow(school: SimulatedSchool, setId: number, pupilId: number): SetListRow {
  const { model } = editable(school);
  find(model.sets, setId, 'set');
  find(model.pupils, pupilId, 'pupil');
  const row: SetListRow = {
    id: nextId(model, 'setList'),
    setId,
    pupilId,
    authorId: 1,
    author: model.adminUserCode,
    lastUpdated: '2025-09-01T08:00:00',
  };
  return added(school, model.setLists, row);
}

export function removeSetListRow(school: SimulatedSchool, id: number): void {
  deleteRecord(school, 'setLists', id, 'set-list row');
}

export function addMembership(
  school: SimulatedSchool,
  customGroupId: number,
  pupilId: number,
): CustomGroupMembership {
  const { model } = editable(school);
  find(model.customGroups, customGroupId, 'custom group');
  find(model.pupils, pupilId, 'pupil');
  const m = { id: nextId(model, 'membership'), pupilId, customGroupId };
  return added(school, model.memberships, m);
}

export function removeMembership(school: SimulatedSchool, id: number): void {
  deleteRecord(school, 'memberships', id, 'membership');
}

/** Term-time churn: `leavers` current pupils leave (references kept), `joiners` new pupils arrive. */
export function churn(
  school: SimulatedSchool,
  leavers: number,
  joiners: number,
): { left: number[]; joined: number[] } {
  const { model, rng } = editable(school);
  const current = model.pupils.filter((p) => p.status === 1);
  const left = rng.shuffle(current).slice(0, leavers);
  for (const p of left) p.status = -1;
  const joined: Pupil[] = [];
  const used = new Set(model.pupils.map((p) => p.schoolId));
  for (let i = 0; i < joiners; i += 1) {
    const p = makePupil(
      rng,
      idsOf(model),
      { ncYear: rng.pick(model.years).id, familyId: nextId(model, 'family') },
      used,
    );
    assignForm(model, rng, p);
    model.pupils.push(p);
    joined.push(p);
  }
  touch(school);
  return { left: left.map((p) => p.id), joined: joined.map((p) => p.id) };
}
