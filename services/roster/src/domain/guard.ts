import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import type { DatasetId } from '@isams-sync/isams';
import type { PlannedChange } from './diff';
import { SOURCE_DATASET } from './roster-model';

/** The removal brake of one entity type: hold when removals exceed BOTH `percent` % of the stored active count AND `min`. */
export interface RemovalThreshold {
  percent: number;
  min: number;
}

/** Per-school thresholds: a default plus optional per-entity-type overrides. */
export interface RemovalThresholds {
  default: RemovalThreshold;
  byType?: Partial<Record<RosterEntityType, RemovalThreshold>>;
}

/** Why the removals of a type were held. */
export type HoldReason =
  /** More removals than the threshold allows. */
  | 'threshold'
  /** The source dataset arrived empty while the store has active entities of the type. */
  | 'empty_dataset'
  /** Memberships of a person whose own removal is held. */
  | 'dependent';

export interface GuardInput {
  changes: readonly PlannedChange[];
  /** Stored ACTIVE entities per type before this run. */
  activeCounts: Partial<Record<RosterEntityType, number>>;
  thresholds: RemovalThresholds;
  /** Raw record count of every dataset present in the snapshot. */
  datasetRecordCounts: Partial<Record<DatasetId, number>>;
}

export interface GuardResult {
  /** Changes to apply now: every addition, update and restore, and the removals not held. */
  apply: PlannedChange[];
  /** Removals held for an admin (a named batch), in the input order. */
  held: PlannedChange[];
  /** Entity types with held removals, and why. */
  heldTypes: Partial<Record<RosterEntityType, HoldReason>>;
}

export const DEFAULT_THRESHOLDS: RemovalThresholds = { default: { percent: 10, min: 5 } };

const MEMBERSHIP_OWNERS: Partial<Record<RosterEntityType, string>> = {
  setMembership: 'pupilId',
  customGroupMembership: 'pupilId',
};

/**
 * Input guards before any removal. Absent datasets never reach here as removals (see `diff`).
 * An empty dataset that was not empty before holds all its removals; removals above the threshold
 * hold the type's removals; memberships of a pupil whose removal is held are held with it.
 * Additions, updates and restores always apply. Pure; approval never changes `thresholds`.
 */
export function guard(input: GuardInput): GuardResult {
  const removalsByType = new Map<RosterEntityType, number>();
  for (const c of input.changes)
    if (c.change === 'removed') removalsByType.set(c.entityType, (removalsByType.get(c.entityType) ?? 0) + 1);

  const heldTypes: Partial<Record<RosterEntityType, HoldReason>> = {};
  for (const entityType of ROSTER_ENTITY_TYPES) {
    const removals = removalsByType.get(entityType) ?? 0;
    if (removals === 0) continue;
    const active = input.activeCounts[entityType] ?? 0;
    if (input.datasetRecordCounts[SOURCE_DATASET[entityType]] === 0 && active > 0) {
      heldTypes[entityType] = 'empty_dataset';
      continue;
    }
    const t = input.thresholds.byType?.[entityType] ?? input.thresholds.default;
    if (removals > (active * t.percent) / 100 && removals > t.min) heldTypes[entityType] = 'threshold';
  }
  const heldPupils = new Set(
    heldTypes.pupil === undefined
      ? []
      : input.changes
          .filter((c) => c.entityType === 'pupil' && c.change === 'removed')
          .map((c) => c.entityId),
  );
  const wholeTypeHeld = new Set(Object.keys(heldTypes));
  const apply: PlannedChange[] = [];
  const held: PlannedChange[] = [];
  for (const c of input.changes) {
    if (c.change !== 'removed') {
      apply.push(c);
      continue;
    }
    if (wholeTypeHeld.has(c.entityType)) {
      held.push(c);
      continue;
    }
    const ownerField = MEMBERSHIP_OWNERS[c.entityType];
    if (ownerField !== undefined && heldPupils.has(String(c.before?.[ownerField]))) {
      heldTypes[c.entityType] ??= 'dependent';
      held.push(c);
      continue;
    }
    apply.push(c);
  }
  return { apply, held, heldTypes };
}
