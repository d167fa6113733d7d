import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import type { StoredByType } from '../../src/domain/diff';
import type { EntitiesByType, RosterEntity } from '../../src/domain/roster-model';

/** Roster entities listed per type (a school's data as the domain tests write it). */
export type EntityLists = Partial<Record<RosterEntityType, RosterEntity[]>>;

/** The entities as incoming data: every type present, each keyed by id. */
export const entitiesByType = (lists: EntityLists): EntitiesByType =>
  Object.fromEntries(
    ROSTER_ENTITY_TYPES.map((t) => [t, new Map((lists[t] ?? []).map((e) => [e.id, e]))]),
  ) as EntitiesByType;

/** The entities as stored, all active, keyed by id (only the types listed). */
export const storedByType = (lists: EntityLists): StoredByType =>
  Object.fromEntries(
    Object.entries(lists).map(([t, es]) => [
      t,
      new Map(
        es.map((data) => [
          data.id,
          { entityType: t as RosterEntityType, id: data.id, status: 'active', data },
        ]),
      ),
    ]),
  ) as StoredByType;
