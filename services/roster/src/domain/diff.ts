import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterChange, RosterEntityType } from '@isams-sync/events';
import { keepStoredFields } from './keep-stored';
import { compareIds } from './normalise';
import type { EntitiesByType, RosterEntity } from './roster-model';

/** An entity as the store holds it (the parts the diff needs). */
export interface StoredEntity {
  entityType: RosterEntityType;
  id: string;
  status: 'active' | 'removed';
  /** Current image; for a purged person only `{ id }`. */
  data: RosterEntity;
  /** Removed entities: personal data was purged after the grace period (a reappearance is `added`, not `restored`). */
  purged?: boolean;
}

/** Stored entities by type and id. */
export type StoredByType = Partial<Record<RosterEntityType, Map<string, StoredEntity>>>;

/** One planned change of the roster. */
export interface PlannedChange {
  entityType: RosterEntityType;
  entityId: string;
  change: RosterChange;
  before?: RosterEntity;
  after?: RosterEntity;
  /** Top-level fields that differ (updated, restored). */
  changedFields?: string[];
}

/** JSON with sorted object keys: equal values give equal strings whatever the key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** Top-level fields whose values differ between two images. */
export function changedFields(before: RosterEntity, after: RosterEntity): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...keys].filter((k) => canonicalJson(before[k]) !== canonicalJson(after[k])).sort();
}

const CHANGE_ORDER: Record<RosterChange, number> = { added: 0, restored: 1, updated: 2, removed: 3 };

/** What normalisation could not read (see `NormalisedSnapshot`): fields to keep, types not to remove from. */
export interface PartialRead {
  /** Per type and id: fields that take the stored image's value. */
  keepStored?: Partial<Record<RosterEntityType, ReadonlyMap<string, readonly string[]>>>;
  /** Types whose dataset had records that could not be identified: no removals this run. */
  suspendedTypes?: ReadonlySet<RosterEntityType>;
}

/**
 * Diffs the incoming normalised roster against the STORED roster (never the previous feed):
 * - incoming, not stored (or stored and purged) → `added`
 * - incoming, stored active, different image → `updated` (with `changedFields`)
 * - incoming, stored removed and not purged → `restored` (same identity)
 * - stored active, not incoming, its type present in the snapshot → `removed`
 * A type whose source dataset was absent (`presentTypes` lacks it) or whose dataset had records
 * that could not be identified (`partial.suspendedTypes`) produces no removals. Fields that could
 * not be read (`partial.keepStored`) take the stored image's value first (`keepStoredFields`), so
 * they never show as changed; a new entity is added without them.
 * The result is in a deterministic order: entity type (catalogue order), change, id.
 */
export function diff(
  stored: StoredByType,
  incoming: EntitiesByType,
  presentTypes: ReadonlySet<RosterEntityType>,
  partial: PartialRead = {},
): PlannedChange[] {
  const out: PlannedChange[] = [];
  for (const entityType of ROSTER_ENTITY_TYPES) {
    const have = stored[entityType] ?? new Map<string, StoredEntity>();
    const want = incoming[entityType];
    const keep = partial.keepStored?.[entityType];
    const changes: PlannedChange[] = [];
    for (const [id, read] of want) {
      const prior = have.get(id);
      const fields = keep?.get(id);
      const after =
        fields === undefined
          ? read
          : keepStoredFields(read, fields, prior?.purged === true ? undefined : prior?.data);
      if (prior === undefined || (prior.status === 'removed' && prior.purged === true)) {
        changes.push({ entityType, entityId: id, change: 'added', after });
      } else if (prior.status === 'removed') {
        changes.push({
          entityType,
          entityId: id,
          change: 'restored',
          before: prior.data,
          after,
          changedFields: changedFields(prior.data, after),
        });
      } else if (prior.data !== after && canonicalJson(prior.data) !== canonicalJson(after)) {
        changes.push({
          entityType,
          entityId: id,
          change: 'updated',
          before: prior.data,
          after,
          changedFields: changedFields(prior.data, after),
        });
      }
    }
    if (presentTypes.has(entityType) && partial.suspendedTypes?.has(entityType) !== true) {
      for (const [id, prior] of have) {
        if (prior.status === 'active' && !want.has(id))
          changes.push({ entityType, entityId: id, change: 'removed', before: prior.data });
      }
    }
    changes.sort(
      (a, b) => CHANGE_ORDER[a.change] - CHANGE_ORDER[b.change] || compareIds(a.entityId, b.entityId),
    );
    out.push(...changes);
  }
  return out;
}
