import type { PersonRef } from './models/bookings.models';
import type { Change } from './models/roster.models';

const PERSON_KINDS: Record<string, PersonRef['kind']> = {
  staff: 'staff',
  pupil: 'pupil',
  contact: 'contact',
};

/** The people removed by a list of changes (staff, pupils, contacts), de-duplicated, in order. */
export function removedPeople(changes: readonly Change[]): PersonRef[] {
  const seen = new Set<string>();
  const people: PersonRef[] = [];
  for (const c of changes) {
    const kind = PERSON_KINDS[c.entityType];
    if (kind === undefined || c.change !== 'removed') continue;
    const key = `${kind}:${c.entityId}`;
    if (seen.has(key)) continue;
    seen.add(key);
    people.push({ kind, id: c.entityId });
  }
  return people;
}
