import type { RawElement } from '@isams-sync/isams';
import { diff } from '../../src/domain/diff';
import type { StoredByType } from '../../src/domain/diff';
import { normalise } from '../../src/domain/normalise';
import type { RawSnapshot } from '../../src/domain/normalise';
import { smallSchool } from './raw';
import { storedOf } from './stored-roster';
import type { Datasets } from './school-feed';

/** A school's datasets, as the contact-key tests feed them. */
export type School = Record<string, RawElement[]>;

/** The small school with its contacts replaced. */
export const withContacts = (contacts: RawElement[]): School => ({ ...smallSchool(), contacts });

/** The stored roster as `normalise`'s fallback: every stored image by type and id. */
export const fallbackOf = (stored: StoredByType): RawSnapshot['fallback'] =>
  Object.fromEntries(
    Object.entries(stored).map(([type, m]) => [type, new Map([...m.values()].map((e) => [e.id, e.data]))]),
  );

/** One sync run of `school` for the crash world's `play`. */
export const feedStep = (tenantId: string, syncRunId: string, datasets: School) => ({
  kind: 'feed' as const,
  tenantId,
  syncRunId,
  datasets: datasets as Datasets,
});

const asOf = new Date('2026-01-10T00:00:00Z');

/**
 * Each run after the first normalised against what the runs before stored, as the processor applies
 * it (what a run neither read nor removed — removals suspended, a contact retained — stays stored):
 * per run, its contact changes (`<change>:<id>`), the contacts retained, whether contact removals were
 * suspended, and the contact keys read.
 */
export function contactRuns(...schools: School[]) {
  let stored = storedOf(normalise({ datasets: schools[0]!, asOf }).entities);
  const out: { changes: string[]; retained: string[]; suspended: boolean; keys: string[] }[] = [];
  for (const school of schools.slice(1)) {
    const n = normalise({ datasets: school, asOf, fallback: fallbackOf(stored) });
    const changes = diff(stored, n.entities, n.presentTypes, n);
    out.push({
      changes: changes.filter((c) => c.entityType === 'contact').map((c) => `${c.change}:${c.entityId}`),
      retained: [...(n.retained.contact ?? [])].sort(),
      suspended: n.suspendedTypes.has('contact'),
      keys: [...n.entities.contact.keys()].sort(),
    });
    const removed = new Set(
      changes.filter((c) => c.change === 'removed').map((c) => `${c.entityType}/${c.entityId}`),
    );
    const next = storedOf(n.entities);
    for (const [type, m] of Object.entries(stored) as [
      keyof StoredByType,
      NonNullable<StoredByType[keyof StoredByType]>,
    ][])
      for (const [id, e] of m)
        if (!next[type]?.has(id) && !removed.has(`${type}/${id}`)) (next[type] ??= new Map()).set(id, e);
    stored = next;
  }
  return out;
}
