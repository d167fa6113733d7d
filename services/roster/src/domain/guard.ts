import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import type { DatasetId } from '@isams-sync/isams';
import { EXISTS_BECAUSE_OF, PERSON_LINKS, keepDroppedLinks, refIds } from './dependents';
import { canonicalJson, changedFields } from './diff';
import type { PlannedChange, StoredByType } from './diff';
import { PLAIN_NAMES, SOURCE_DATASET } from './roster-model';
import type { SchoolIdentityResult } from './school-identity';

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

/** Why the changes of a type were held. */
export type HoldReason =
  /** More removals than the threshold allows. */
  | 'threshold'
  /** The source dataset arrived empty while the store has active entities of the type. */
  | 'empty_dataset'
  /** Removals (or dropped links) of entities that exist only because of an owner whose removal is held. */
  | 'dependent'
  /** The document looks like a different school: the whole run is held. */
  | 'school_identity';

/** What a held batch holds: the run's suspicious removals (and their dependents), or the whole run. */
export type HoldKind = 'removals' | 'whole_run';

export interface GuardInput {
  changes: readonly PlannedChange[];
  /** Stored ACTIVE entities per type before this run. */
  activeCounts: Partial<Record<RosterEntityType, number>>;
  thresholds: RemovalThresholds;
  /** Raw record count of every dataset present in the snapshot. */
  datasetRecordCounts: Partial<Record<DatasetId, number>>;
  /** The stored roster the changes were diffed against (who stays active decides dependent holds). */
  stored: StoredByType;
  /** The school-identity check of the document; `different_school` holds the whole run. */
  identity?: SchoolIdentityResult;
  /**
   * Removals waiting in the school's pending held batch, with the reason they were held: they stay
   * held (whatever this run's counts) until an admin decides the batch.
   */
  pendingHeld?: ReadonlyMap<string, HoldReason>;
  /**
   * People whose removal an admin discarded (and whose data has not changed since): they stay, so a
   * link to them that an update drops is held like a link to a held person.
   */
  kept?: ReadonlySet<string>;
}

/** One change of the plan and what happens to it, in plan order. */
export interface GuardDecision {
  change: PlannedChange;
  disposition: 'apply' | 'held';
}

export interface GuardResult {
  /** Changes to apply now: every addition, update and restore, and the removals not held. */
  apply: PlannedChange[];
  /** Changes held for an admin (a named batch), in the input order. */
  held: PlannedChange[];
  /**
   * Every decision in plan order. An update that drops a link to a held person appears twice: the
   * update without the drop (`apply`, omitted when nothing else changed), then the drop (`held`).
   */
  decisions: GuardDecision[];
  /** Entity types with held changes, and why. */
  heldTypes: Partial<Record<RosterEntityType, HoldReason>>;
  /** Set when something is held: what kind of batch, and why in plain words. */
  hold?: { kind: HoldKind; reason: string };
}

export const DEFAULT_THRESHOLDS: RemovalThresholds = { default: { percent: 10, min: 5 } };

const key = (t: RosterEntityType, id: string) => `${t}/${id}`;

/**
 * Input guards before anything is applied. A document that looks like a different school
 * (`identity`) holds the whole run: additions, updates and removals. Otherwise, per type: an empty
 * dataset that was not empty before holds all its removals; removals above the threshold hold the
 * type's removals; and an entity that exists only because of an owner whose removal is held
 * (EXISTS_BECAUSE_OF: a held pupil's contacts and memberships, a held staff member's custom groups,
 * a held set's memberships) is held with it, as is an update's drop of a link to a held person
 * (PERSON_LINKS). Additions, updates and restores otherwise apply. Absent datasets never reach here
 * as removals (see `diff`). Pure; approval never changes `thresholds`.
 */
export function guard(input: GuardInput): GuardResult {
  if (input.identity?.verdict === 'different_school') return holdWholeRun(input.changes, input.identity);

  const removalsByType = new Map<RosterEntityType, number>();
  for (const c of input.changes)
    if (c.change === 'removed') removalsByType.set(c.entityType, (removalsByType.get(c.entityType) ?? 0) + 1);

  const heldTypes: Partial<Record<RosterEntityType, HoldReason>> = {};
  const notes: string[] = [];
  for (const entityType of ROSTER_ENTITY_TYPES) {
    const removals = removalsByType.get(entityType) ?? 0;
    if (removals === 0) continue;
    const active = input.activeCounts[entityType] ?? 0;
    if (input.datasetRecordCounts[SOURCE_DATASET[entityType]] === 0 && active > 0) {
      heldTypes[entityType] = 'empty_dataset';
      notes.push(
        `the ${PLAIN_NAMES[entityType]} list arrived empty (${removals} of ${active} would be removed)`,
      );
      continue;
    }
    const t = input.thresholds.byType?.[entityType] ?? input.thresholds.default;
    if (removals > (active * t.percent) / 100 && removals > t.min) {
      heldTypes[entityType] = 'threshold';
      notes.push(
        `${removals} of ${active} ${PLAIN_NAMES[entityType]} would be removed (more than ${t.percent} % and more than ${t.min})`,
      );
    }
  }

  // Removals still waiting in the pending batch stay held, whatever this run's counts.
  const pendingHeld = new Set<PlannedChange>();
  const pendingByType = new Map<RosterEntityType, number>();
  for (const c of input.changes) {
    const reason = input.pendingHeld?.get(key(c.entityType, c.entityId));
    if (c.change !== 'removed' || reason === undefined || heldTypes[c.entityType] !== undefined) continue;
    pendingHeld.add(c);
    pendingByType.set(c.entityType, (pendingByType.get(c.entityType) ?? 0) + 1);
  }
  for (const [entityType, count] of pendingByType) {
    const first = [...pendingHeld].find((c) => c.entityType === entityType)!;
    heldTypes[entityType] = input.pendingHeld!.get(key(first.entityType, first.entityId))!;
    notes.push(`${count} ${PLAIN_NAMES[entityType]} still await the decision on the pending batch`);
  }

  // Who is held, who goes now and who arrives: decides whether a dependent's owner stays.
  const held = new Set<string>();
  const goingNow = new Set<string>();
  const arriving = new Set<string>();
  for (const c of input.changes) {
    if (c.change === 'added' || c.change === 'restored') arriving.add(key(c.entityType, c.entityId));
    else if (c.change === 'removed') {
      if (pendingHeld.has(c) || (heldTypes[c.entityType] !== undefined && !pendingByType.has(c.entityType)))
        held.add(key(c.entityType, c.entityId));
      else goingNow.add(key(c.entityType, c.entityId));
    }
  }
  const isHeld = (t: RosterEntityType, id: string) =>
    held.has(key(t, id)) || input.kept?.has(key(t, id)) === true;
  const typeHeld = (c: PlannedChange) =>
    pendingHeld.has(c) || (heldTypes[c.entityType] !== undefined && !pendingByType.has(c.entityType));
  const stays = (t: RosterEntityType, id: string) =>
    !held.has(key(t, id)) &&
    !goingNow.has(key(t, id)) &&
    (arriving.has(key(t, id)) || input.stored[t]?.get(id)?.status === 'active');

  // Dependent removals, owners first (the catalogue order puts every owner type before its dependents).
  const dependentHeld = new Set<PlannedChange>();
  for (const c of input.changes) {
    const requirements = EXISTS_BECAUSE_OF[c.entityType];
    if (c.change !== 'removed' || typeHeld(c) || requirements === undefined) continue;
    const waits = requirements.some((refs) => {
      const owners = refs.flatMap((r) => refIds(c.before!, r).map((id) => [r.owner, id] as const));
      return owners.some(([t, id]) => isHeld(t, id)) && !owners.some(([t, id]) => stays(t, id));
    });
    if (!waits) continue;
    dependentHeld.add(c);
    held.add(key(c.entityType, c.entityId));
    goingNow.delete(key(c.entityType, c.entityId));
  }

  const decisions: GuardDecision[] = [];
  const dependentTypes = new Set<RosterEntityType>();
  for (const c of input.changes) {
    if (c.change === 'removed') {
      const hold = typeHeld(c) || dependentHeld.has(c);
      if (dependentHeld.has(c)) dependentTypes.add(c.entityType);
      decisions.push({ change: c, disposition: hold ? 'held' : 'apply' });
      continue;
    }
    const links = PERSON_LINKS[c.entityType];
    if (c.change !== 'updated' || links === undefined || held.size === 0) {
      decisions.push({ change: c, disposition: 'apply' });
      continue;
    }
    const kept = keepDroppedLinks(c.before!, c.after!, links, isHeld);
    if (kept === c.after) {
      decisions.push({ change: c, disposition: 'apply' });
      continue;
    }
    dependentTypes.add(c.entityType);
    if (canonicalJson(kept) !== canonicalJson(c.before))
      decisions.push({
        change: { ...c, after: kept, changedFields: changedFields(c.before!, kept) },
        disposition: 'apply',
      });
    decisions.push({
      change: { ...c, before: kept, changedFields: changedFields(kept, c.after!) },
      disposition: 'held',
    });
  }
  for (const t of dependentTypes) heldTypes[t] ??= 'dependent';

  const apply = decisions.filter((d) => d.disposition === 'apply').map((d) => d.change);
  const heldChanges = decisions.filter((d) => d.disposition === 'held').map((d) => d.change);
  const result: GuardResult = { apply, held: heldChanges, decisions, heldTypes };
  if (heldChanges.length > 0)
    result.hold = { kind: 'removals', reason: describeRemovalHold(heldChanges, heldTypes, notes) };
  return result;
}

function holdWholeRun(changes: readonly PlannedChange[], identity: SchoolIdentityResult): GuardResult {
  const heldTypes: Partial<Record<RosterEntityType, HoldReason>> = {};
  for (const c of changes) heldTypes[c.entityType] = 'school_identity';
  return {
    apply: [],
    held: [...changes],
    decisions: changes.map((change) => ({ change, disposition: 'held' as const })),
    heldTypes,
    hold: { kind: 'whole_run', reason: identity.reason },
  };
}

/**
 * The reason of a batch stored before reasons were recorded (always a removal batch), from its
 * held types and counts.
 */
export function storedBatchReason(
  heldTypes: Partial<Record<RosterEntityType, HoldReason>>,
  countsByType: Partial<Record<RosterEntityType, number>>,
): string {
  const parts = (Object.entries(countsByType) as [RosterEntityType, number][]).map(
    ([t, count]) => `${count} ${PLAIN_NAMES[t]} (${(heldTypes[t] ?? 'threshold').replace('_', ' ')})`,
  );
  return `Removals held for review: ${parts.join(', ')}. Additions and updates were applied.`;
}

/** A removal batch's reason in plain words: what tripped which brake, and what waits with it. */
function describeRemovalHold(
  held: readonly PlannedChange[],
  heldTypes: Partial<Record<RosterEntityType, HoldReason>>,
  notes: readonly string[],
): string {
  const dependents = new Map<RosterEntityType, number>();
  for (const c of held)
    if (heldTypes[c.entityType] === 'dependent')
      dependents.set(c.entityType, (dependents.get(c.entityType) ?? 0) + 1);
  const parts = [...notes];
  if (dependents.size > 0)
    parts.push(
      `held with them: ${[...dependents].map(([t, count]) => `${count} ${PLAIN_NAMES[t]}`).join(', ')} (they exist only because of held records, or would drop a link to one)`,
    );
  return `Removals held for review: ${parts.join('; ')}. Additions and updates were applied.`;
}
