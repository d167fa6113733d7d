import type { RosterEntityType } from '@isams-sync/events';
import { compareIds } from './normalise';
import type { JsonValue, RosterEntity } from './roster-model';

/**
 * Where an entity image refers to another entity: a top-level id field (`tutorStaffId`) or a list
 * of objects each naming one (`pupils[].pupilId`).
 */
export type Ref =
  | { kind: 'field'; owner: RosterEntityType; field: string }
  | { kind: 'list'; owner: RosterEntityType; field: string; key: string };

const field = (owner: RosterEntityType, name: string): Ref => ({ kind: 'field', owner, field: name });
const list = (owner: RosterEntityType, name: string, key: string): Ref => ({
  kind: 'list',
  owner,
  field: name,
  key,
});

/**
 * Entities that exist only because of other entities (docs/roster-model.md). Each inner list is
 * one requirement: the entity needs at least one of the entities it names (a contact needs one of
 * its pupils); all requirements must hold (a set membership needs its pupil AND its set). A removal
 * waits for a held owner's: it is held when some requirement names a held owner and none that stays.
 */
export const EXISTS_BECAUSE_OF: Partial<Record<RosterEntityType, readonly Ref[][]>> = {
  contact: [[list('pupil', 'pupils', 'pupilId')]],
  setMembership: [[field('pupil', 'pupilId')], [field('teachingSet', 'setId')]],
  customGroupMembership: [[field('pupil', 'pupilId')], [field('customGroup', 'customGroupId')]],
  customGroup: [[field('staff', 'ownerStaffId')]],
};

/**
 * Links to people that the normaliser drops when the person is no longer in the feed. While the
 * person's removal is held, an update that DROPS such a link keeps it (the drop is held with the
 * person); a link replaced by another person is a real change and applies.
 */
export const PERSON_LINKS: Partial<Record<RosterEntityType, readonly Ref[]>> = {
  pupil: [field('staff', 'tutorStaffId')],
  contact: [list('pupil', 'pupils', 'pupilId')],
  form: [
    field('staff', 'tutorStaffId'),
    field('staff', 'assistantTutorStaffId'),
    field('staff', 'secondAssistantTutorStaffId'),
  ],
  yearGroup: [field('staff', 'tutorStaffId'), field('staff', 'assistantTutorStaffId')],
  academicHouse: [field('staff', 'houseMasterStaffId'), field('staff', 'assistantHouseMasterStaffId')],
  boardingHouse: [field('staff', 'houseMasterStaffId'), field('staff', 'assistantHouseMasterStaffId')],
  teachingSet: [list('staff', 'teachers', 'staffId'), field('staff', 'primaryTeacherStaffId')],
  customGroup: [field('staff', 'ownerStaffId')],
};

type Item = { [key: string]: JsonValue };
const items = (e: RosterEntity, ref: Ref): Item[] =>
  Array.isArray(e[ref.field])
    ? (e[ref.field] as JsonValue[]).filter((x): x is Item => x !== null && typeof x === 'object')
    : [];

/** The ids `ref` names in an image. */
export function refIds(e: RosterEntity, ref: Ref): string[] {
  if (ref.kind === 'field') return e[ref.field] === undefined ? [] : [String(e[ref.field])];
  return items(e, ref)
    .map((x) => x[ref.key])
    .filter((v) => v !== undefined && v !== null)
    .map(String);
}

/**
 * `after` with the links of `before` to `keep(ownerId)` owners put back where `after` dropped them
 * (a field left empty, a list entry gone). Returns `after` itself when nothing was put back.
 */
export function keepDroppedLinks(
  before: RosterEntity,
  after: RosterEntity,
  refs: readonly Ref[],
  keep: (owner: RosterEntityType, id: string) => boolean,
): RosterEntity {
  let out = after;
  for (const ref of refs) {
    if (ref.kind === 'field') {
      const was = before[ref.field];
      if (was !== undefined && out[ref.field] === undefined && keep(ref.owner, String(was)))
        out = { ...out, [ref.field]: was };
      continue;
    }
    const present = new Set(refIds(out, ref));
    const back = items(before, ref).filter((x) => {
      const id = x[ref.key];
      return id !== undefined && id !== null && !present.has(String(id)) && keep(ref.owner, String(id));
    });
    if (back.length === 0) continue;
    const merged = [...items(out, ref), ...back].sort((x, y) =>
      compareIds(String(x[ref.key]), String(y[ref.key])),
    );
    out = { ...out, [ref.field]: merged };
  }
  return out;
}
