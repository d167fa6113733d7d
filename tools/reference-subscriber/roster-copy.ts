import type { RosterChangeData, RosterEntityState, RosterRevision } from '@isams-sync/events';

/** One entity of the subscriber's copy: what the roster lists for it (purged people are forgotten). */
export interface CopiedEntity {
  tenantId: string;
  entityType: string;
  entityId: string;
  status: 'active' | 'removed';
  data: Record<string, unknown>;
  /** Removed: the copy forgets the entity (personal data included) once this instant has passed. */
  graceUntil?: string;
  revision?: RosterRevision;
}

/** What happened to one change event. */
export type ApplyOutcome = 'applied' | 'duplicate' | 'stale';

/** A later change of the same entity? Without revisions (older roster versions) we cannot tell: apply. */
export function isNewer(change: RosterRevision | undefined, known: RosterRevision | undefined): boolean {
  if (change === undefined || known === undefined) return true;
  return change.changeset !== known.changeset
    ? change.changeset > known.changeset
    : change.change > known.change;
}

/** The roster purges people only (docs/roster-model.md › Removal); other removed entities keep their image. */
const PURGED_TYPES: ReadonlySet<string> = new Set(['staff', 'pupil', 'contact']);

const keyOf = (tenantId: string, entityType: string, entityId: string) =>
  `${tenantId}/${entityType}/${entityId}`;

/**
 * A subscriber's own copy of the roster, built from `roster.state.v1` records and `roster.changes.v1`
 * events (pure: no Kafka here, see `subscriber.ts`). Every change is an absolute image, and each
 * entity remembers the revision of the last change it reflects, so a change already reflected (from
 * the state snapshot, or a re-delivery) is never applied twice and an older one never wins.
 */
export class RosterCopy {
  private readonly entities = new Map<string, CopiedEntity>();
  /** Keys purged or tombstoned, with the last revision known for them (an older replay stays out). */
  private readonly forgotten = new Map<string, RosterRevision | undefined>();
  /** Event ids already handled (the roster's ids are deterministic: a re-send has the same id). */
  private readonly seenIds = new Set<string>();

  /** Bootstrap: one record of the state topic (`tenantId` = its `ce_tenantid`). */
  loadState(tenantId: string, state: RosterEntityState): void {
    const key = keyOf(tenantId, state.entityType, state.entityId);
    if (state.status === 'purged' || state.data === undefined) {
      this.forget(key, state.revision);
      return;
    }
    this.forgotten.delete(key);
    this.entities.set(key, {
      tenantId,
      entityType: state.entityType,
      entityId: state.entityId,
      status: state.status === 'removed' ? 'removed' : 'active',
      data: state.data,
      ...(state.removal === undefined ? {} : { graceUntil: state.removal.graceUntil }),
      ...(state.revision === undefined ? {} : { revision: state.revision }),
    });
  }

  /** Bootstrap: a tombstone (null value) on the state topic — the roster purged the key. */
  loadTombstone(key: string): void {
    this.forget(key, this.entities.get(key)?.revision ?? this.forgotten.get(key));
  }

  /** Follow: one change event (`id` = its `ce_id`). */
  applyChange(tenantId: string, id: string, change: RosterChangeData): ApplyOutcome {
    if (this.seenIds.has(id)) return 'duplicate';
    const key = keyOf(tenantId, change.entityType, change.entityId);
    const known = this.entities.has(key) ? this.entities.get(key)!.revision : this.forgotten.get(key);
    if ((this.entities.has(key) || this.forgotten.has(key)) && !isNewer(change.revision, known)) {
      this.seenIds.add(id);
      return 'stale';
    }
    const removed = change.change === 'removed';
    const image = removed ? change.before : change.after;
    if (image === undefined) throw new Error(`${change.change} event ${id} without an image`);
    this.forgotten.delete(key);
    this.entities.set(key, {
      tenantId,
      entityType: change.entityType,
      entityId: change.entityId,
      status: removed ? 'removed' : 'active',
      data: image,
      ...(removed && change.removal ? { graceUntil: change.removal.graceUntil } : {}),
      ...(change.revision === undefined ? {} : { revision: change.revision }),
    });
    this.seenIds.add(id);
    return 'applied';
  }

  /**
   * Forgets removed people (staff, pupils, contacts) whose grace period has ended — the roster purges
   * them then and publishes no change event for it; a subscriber must not keep their personal data
   * longer. Other removed entities stay, as in the roster. Returns how many were forgotten.
   */
  purgeExpired(now: Date): number {
    let n = 0;
    for (const [key, e] of this.entities)
      if (
        e.status === 'removed' &&
        PURGED_TYPES.has(e.entityType) &&
        e.graceUntil !== undefined &&
        Date.parse(e.graceUntil) <= now.getTime()
      ) {
        this.forget(key, e.revision);
        n += 1;
      }
    return n;
  }

  /** The copy of one school, sorted by type and id. */
  list(tenantId: string): CopiedEntity[] {
    return [...this.entities.values()]
      .filter((e) => e.tenantId === tenantId)
      .sort((a, b) => a.entityType.localeCompare(b.entityType) || a.entityId.localeCompare(b.entityId));
  }

  get size(): number {
    return this.entities.size;
  }

  private forget(key: string, revision: RosterRevision | undefined): void {
    this.entities.delete(key);
    this.forgotten.set(key, revision);
  }
}
