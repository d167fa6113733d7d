import type { RawElement } from '@isams-sync/isams';
import type { StoredByType } from '../../src/domain/diff';
import type { RawSnapshot } from '../../src/domain/normalise';
import { smallSchool } from './raw';
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
