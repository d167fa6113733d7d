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

/**
 * How many object keys keep their JSON encoding (`"key":`) cached. Images use a few dozen; past the
 * limit keys are encoded each time, so memory stays bounded.
 */
const ENCODED_KEYS_LIMIT = 4096;
const encodedKeys = new Map<string, string>();

function keyOf(key: string): string {
  let encoded = encodedKeys.get(key);
  if (encoded === undefined) {
    encoded = `${JSON.stringify(key)}:`;
    if (encodedKeys.size < ENCODED_KEYS_LIMIT) encodedKeys.set(key, encoded);
  }
  return encoded;
}

/**
 * JSON with sorted object keys: equal values give equal strings whatever the key order. The stored
 * content hashes are taken over this text, so it is pinned byte for byte by its test (against the
 * first, map-and-join version): `undefined` object fields are left out, an `undefined` array
 * element is an empty string between its commas. Written as loops over string concatenation: a
 * resync hashes every incoming image, and the map/filter/join version cost about twice as much.
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) {
      if (i > 0) out += ',';
      out += canonicalJson(value[i]) ?? '';
    }
    return `${out}]`;
  }
  const record = value as Record<string, unknown>;
  const keys = Object.keys(record);
  if (keys.length > 1) keys.sort();
  let out = '{';
  let first = true;
  for (const k of keys) {
    const v = record[k];
    if (v === undefined) continue;
    if (!first) out += ',';
    first = false;
    out += keyOf(k) + canonicalJson(v);
  }
  return `${out}}`;
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
  /** Per type: stored entities not incoming that are not removed (the person is still sent under another key). */
  retained?: Partial<Record<RosterEntityType, ReadonlySet<string>>>;
}

/**
 * Diffs the incoming normalised roster against the STORED roster (never the previous feed):
 * - incoming, not stored (or stored and purged) → `added`
 * - incoming, stored active, different image → `updated` (with `changedFields`)
 * - incoming, stored removed and not purged → `restored` (same identity)
 * - stored active, not incoming, its type present in the snapshot → `removed`
 * A type whose source dataset was absent (`presentTypes` lacks it) or whose dataset had records
 * that could not be identified (`partial.suspendedTypes`) produces no removals, nor does a stored
 * entity whose person is still sent under another key (`partial.retained`). Fields that could
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
      const retained = partial.retained?.[entityType];
      for (const [id, prior] of have) {
        if (prior.status === 'active' && !want.has(id) && retained?.has(id) !== true)
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
