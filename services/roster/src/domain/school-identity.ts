import type { RosterEntityType } from '@isams-sync/events';
import type { PartialRead, StoredByType, StoredEntity } from './diff';
import { keepStoredFields } from './keep-stored';
import type { EntitiesByType, RosterEntity } from './roster-model';
import { foldName } from './search-text';

/**
 * When a document counts as another school's. iSAMS numbers people per school, so another school's
 * document under the same key or address reuses our ids for other people (or brings ids we never
 * saw). Real term-time churn never comes near these: a September intake makes up to a third of
 * pupils new while leavers go, a sixth-form college replaces half its pupils at roll-over, and
 * marriages or corrections change a few names — but the people who stay keep their id, their date
 * of birth and their identifiers.
 */
export const IDENTITY_RULES = {
  /** A person type is judged only when at least this many people can be compared. */
  minComparable: 10,
  /** Held when MORE than this share of the known ids still in the document carry another person. */
  differentPeopleShare: 0.5,
  /** Held when MORE than this share of the document's people are unknown AND of the known people are missing. */
  unknownPeopleShare: 0.75,
  /** The school's structure (houses, divisions, departments) is judged from this many known records. */
  minStructure: 4,
  /** Held when MORE than this share of the known structure records in the document have another name. */
  renamedStructureShare: 0.5,
} as const;

/** The person types compared. */
export type PersonType = 'pupil' | 'staff';
const PEOPLE: readonly PersonType[] = ['pupil', 'staff'];

/** Attributes that stay with a person whatever their name (PersonId is left out: schools number it alike). */
const STABLE_ATTRIBUTES: Readonly<Record<PersonType, readonly string[]>> = {
  pupil: ['dob', 'personGuid', 'schoolId', 'upn', 'userCode'],
  staff: ['dob', 'personGuid', 'userCode'],
};

/** Structure records a school names itself (year groups are national: Year 7 is Year 7 everywhere). */
const STRUCTURE_TYPES: readonly RosterEntityType[] = [
  'academicHouse',
  'boardingHouse',
  'division',
  'department',
];

/** How one person type of the document compares with the stored roster (stored = active entities). */
export interface PeopleComparison {
  entityType: PersonType;
  /** Stored active people of the type. */
  known: number;
  /** People of the type in the document. */
  inDocument: number;
  /** Ids both known and in the document. */
  matched: number;
  /** Matched ids that now carry another person (another name and no date of birth or identifier in common). */
  differentPerson: number;
  /** Ids in the document that are not known. */
  unknown: number;
  /** Known ids not in the document. */
  missing: number;
}

/** How the school's own structure (houses, divisions, departments) compares: known ids in the document, renamed. */
export interface StructureComparison {
  matched: number;
  renamed: number;
}

export interface IdentitySignal {
  code: 'different_people' | 'unknown_people' | 'renamed_structure';
  entityType?: PersonType;
  /** Plain words, e.g. "1,150 of 1,199 known pupils now have a different name and date of birth". */
  text: string;
}

/**
 * `different_school` holds the whole run; every other verdict lets it through:
 * `first_sync` (nothing stored), `not_judged` (too few people and structure records to compare),
 * `same_school`.
 */
export type IdentityVerdict = 'first_sync' | 'not_judged' | 'same_school' | 'different_school';

export interface SchoolIdentityResult {
  verdict: IdentityVerdict;
  people: PeopleComparison[];
  structure: StructureComparison;
  signals: IdentitySignal[];
  /** Why, in plain words for the admin (no personal data: counts only). */
  reason: string;
}

export interface SchoolIdentityInput {
  stored: StoredByType;
  incoming: EntitiesByType;
  /** Types whose source dataset is in the document (an absent dataset is not compared). */
  presentTypes: ReadonlySet<RosterEntityType>;
  /**
   * Fields that could not be read this run (`normalise`'s result): compared with the stored value
   * they keep, as the diff applies them — an unreadable name is not a changed name.
   */
  partial?: PartialRead;
}

/** Names compared with accents, case and spacing ignored (the folding search uses too). */
const fold = foldName;

/**
 * Is `after` still the person `before` was? `same` when the name is unchanged, or when it changed
 * but the date of birth or an identifier (PersonGuid, SchoolId, UPN, user code) still matches —
 * a marriage or a correction; `different` when the name changed and nothing comparable matches;
 * `unknown` when neither names nor identifiers can be compared.
 */
export function samePerson(
  entityType: PersonType,
  before: RosterEntity,
  after: RosterEntity,
): 'same' | 'different' | 'unknown' {
  const name = (e: RosterEntity) =>
    fold(e.forename) === undefined && fold(e.surname) === undefined
      ? undefined
      : `${fold(e.forename) ?? ''}|${fold(e.surname) ?? ''}`;
  const [a, b] = [name(before), name(after)];
  if (a !== undefined && a === b) return 'same';
  let comparable = false;
  for (const field of STABLE_ATTRIBUTES[entityType]) {
    const [x, y] = [fold(before[field]), fold(after[field])];
    if (x === undefined || y === undefined) continue;
    if (x === y) return 'same';
    comparable = true;
  }
  return comparable || (a !== undefined && b !== undefined) ? 'different' : 'unknown';
}

const activeOf = (stored: StoredByType, t: RosterEntityType): StoredEntity[] =>
  [...(stored[t]?.values() ?? [])].filter((e) => e.status === 'active');

/** The document's image of a known entity, with the fields it could not read kept from the stored image. */
function incomingOf(input: SchoolIdentityInput, known: StoredEntity): RosterEntity | undefined {
  const now = input.incoming[known.entityType].get(known.id);
  const unreadable = input.partial?.keepStored?.[known.entityType]?.get(known.id);
  return now === undefined || unreadable === undefined ? now : keepStoredFields(now, unreadable, known.data);
}

function comparePeople(input: SchoolIdentityInput, entityType: PersonType): PeopleComparison {
  const known = activeOf(input.stored, entityType);
  const incoming = input.incoming[entityType];
  let matched = 0;
  let differentPerson = 0;
  for (const e of known) {
    const now = incomingOf(input, e);
    if (now === undefined) continue;
    matched += 1;
    if (samePerson(entityType, e.data, now) === 'different') differentPerson += 1;
  }
  return {
    entityType,
    known: known.length,
    inDocument: incoming.size,
    matched,
    differentPerson,
    unknown: incoming.size - matched,
    missing: known.length - matched,
  };
}

function compareStructure(input: SchoolIdentityInput): StructureComparison {
  let matched = 0;
  let renamed = 0;
  for (const t of STRUCTURE_TYPES) {
    if (!input.presentTypes.has(t)) continue;
    for (const e of activeOf(input.stored, t)) {
      const now = incomingOf(input, e);
      const [was, is] = [fold(e.data.name), fold(now?.name)];
      if (was === undefined || is === undefined) continue;
      matched += 1;
      if (was !== is) renamed += 1;
    }
  }
  return { matched, renamed };
}

const n = (v: number): string => v.toLocaleString('en-GB');
const PLURAL: Record<PersonType, string> = { pupil: 'pupils', staff: 'staff' };
const DIFFERENT_WHAT: Record<PersonType, string> = {
  pupil: 'a different name and date of birth',
  staff: 'a different name and identifiers',
};
const more = (part: number, whole: number, share: number): boolean => whole > 0 && part > whole * share;

/**
 * Does this document look like the school whose roster is stored? Compares, per person type, the
 * people under the known ids (a different name AND no date of birth or identifier in common =
 * another person), how many ids are unknown and how many known ones are missing, and the names of
 * the school's houses, divisions and departments (the Batch API document carries no school id or
 * name). Pure; the result explains itself in `reason`.
 */
export function checkSchoolIdentity(input: SchoolIdentityInput): SchoolIdentityResult {
  const R = IDENTITY_RULES;
  const storedAnything = Object.values(input.stored).some((m) =>
    [...(m?.values() ?? [])].some((e) => e.status === 'active'),
  );
  const people = PEOPLE.filter((t) => input.presentTypes.has(t)).map((t) => comparePeople(input, t));
  const structure = compareStructure(input);
  if (!storedAnything)
    return {
      verdict: 'first_sync',
      people,
      structure,
      signals: [],
      reason: 'Nothing to compare: the roster is empty (first sync).',
    };

  const signals: IdentitySignal[] = [];
  let judged = false;
  for (const p of people) {
    const plural = PLURAL[p.entityType];
    if (p.matched >= R.minComparable) {
      judged = true;
      if (more(p.differentPerson, p.matched, R.differentPeopleShare)) {
        signals.push({
          code: 'different_people',
          entityType: p.entityType,
          text: `${n(p.differentPerson)} of ${n(p.matched)} known ${plural} now have ${DIFFERENT_WHAT[p.entityType]}`,
        });
        continue;
      }
    }
    if (p.known >= R.minComparable && p.inDocument >= R.minComparable) {
      judged = true;
      if (
        more(p.unknown, p.inDocument, R.unknownPeopleShare) &&
        more(p.missing, p.known, R.unknownPeopleShare)
      )
        signals.push({
          code: 'unknown_people',
          entityType: p.entityType,
          text: `${n(p.unknown)} of ${n(p.inDocument)} ${plural} in the document are unknown here and ${n(p.missing)} of ${n(p.known)} known ${plural} are missing from it`,
        });
    }
  }
  if (structure.matched >= R.minStructure) {
    judged = true;
    if (more(structure.renamed, structure.matched, R.renamedStructureShare))
      signals.push({
        code: 'renamed_structure',
        text: `${n(structure.renamed)} of ${n(structure.matched)} known houses, divisions and departments now have a different name`,
      });
  }

  if (signals.length > 0)
    return {
      verdict: 'different_school',
      people,
      structure,
      signals,
      reason: `This document looks like a different school: ${signals.map((s) => s.text).join('; ')}. Nothing from it has been applied.`,
    };
  if (!judged)
    return {
      verdict: 'not_judged',
      people,
      structure,
      signals,
      reason: `Too few known pupils and staff to compare (fewer than ${R.minComparable}); the document is treated as the same school.`,
    };
  const kept = people
    .filter((p) => p.known > 0)
    .map((p) => `${n(p.matched - p.differentPerson)} of ${n(p.known)} known ${PLURAL[p.entityType]}`);
  return {
    verdict: 'same_school',
    people,
    structure,
    signals,
    reason:
      kept.length > 0
        ? `The same school: ${kept.join(' and ')} are still in the document as themselves.`
        : 'The same school: its houses, divisions and departments keep their names.',
  };
}
