import type { RosterChange, RosterEntityType } from '@isams-sync/events';
import { canonicalJson } from './diff';
import type { PlannedChange } from './diff';

/**
 * The lifecycle of the one pending held batch of a school (docs/roster-model.md › Held batches):
 * later runs add their held changes to it and drop what no longer applies, and a discard is
 * remembered per person with the content it was decided on. Pure.
 */

/** `entityType/entityId`: one person or record of the roster. */
export type EntityKey = `${string}/${string}`;

export const entityKey = (c: { entityType: RosterEntityType; entityId: string }): EntityKey =>
  `${c.entityType}/${c.entityId}`;

/**
 * What a held change was decided on: for a removal the stored image being removed, otherwise the
 * incoming image. Equal content gives an equal hash (canonical JSON, 2 × 32-bit FNV-1a).
 */
export function contentHash(c: Pick<PlannedChange, 'change' | 'before' | 'after'>): string {
  const text = `${c.change}:${canonicalJson(c.change === 'removed' ? c.before : c.after)}`;
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ text.length;
  for (let i = 0; i < text.length; i += 1) {
    const ch = text.charCodeAt(i);
    a = Math.imul(a ^ ch, 0x01000193) >>> 0;
    b = Math.imul(b ^ ch, 0x5bd1e995) >>> 0;
  }
  return `${a.toString(16).padStart(8, '0')}${b.toString(16).padStart(8, '0')}`;
}

/** One change an admin discarded: it stays unapplied while the same change with the same content comes again. */
export interface DiscardedChange {
  entityType: RosterEntityType;
  entityId: string;
  change: RosterChange;
  hash: string;
  batchId: string;
  discardedAt: string;
}

/**
 * The items of the pending batch after a run: every change the run holds, plus the batch's earlier
 * items of types the run could not judge (dataset absent, or records that could not be identified —
 * `judgedTypes` lacks them) that the run does not hold itself and whose entity the run did not send
 * (`sent`: the entities the run sent of the types it could not judge). An earlier item of a judged
 * type the run no longer holds no longer applies (the person is back in the feed, or already gone)
 * and is dropped; so is one of an unjudged type whose entity the run sent: the run's own record of it
 * is the newest word (its change, if any, is the run's), and approving the earlier item would remove
 * someone iSAMS still sends — or, for a whole-run batch of another school's document, put that
 * school's image over ours. Idempotent: merging the same run again gives the same items. Ordered
 * like a plan.
 */
export function mergeBatchItems(
  earlier: readonly PlannedChange[],
  runHeld: readonly PlannedChange[],
  judgedTypes: ReadonlySet<RosterEntityType>,
  sent: ReadonlySet<EntityKey> = new Set(),
): PlannedChange[] {
  const heldNow = new Set(runHeld.map((c) => `${entityKey(c)}:${c.change}`));
  const kept = earlier.filter(
    (c) =>
      !judgedTypes.has(c.entityType) &&
      !heldNow.has(`${entityKey(c)}:${c.change}`) &&
      !sent.has(entityKey(c)),
  );
  return [...runHeld, ...kept];
}

/** A fingerprint of a batch's items: equal items (same changes, same content) give an equal fingerprint. */
export function itemsFingerprint(items: readonly PlannedChange[]): string {
  const parts = items.map((c) => `${entityKey(c)}:${c.change}:${contentHash(c)}`).sort();
  return contentHash({ change: 'updated', after: { id: parts.join('|') } });
}

/** Looks up discarded changes by entity and change kind. */
export class DiscardMemory {
  private readonly byKey = new Map<string, DiscardedChange>();

  constructor(readonly entries: readonly DiscardedChange[]) {
    for (const e of entries) this.byKey.set(`${entityKey(e)}:${e.change}`, e);
  }

  /** The discard that still covers this change (same entity, same kind of change, same content), if any. */
  covering(c: PlannedChange): DiscardedChange | undefined {
    const e = this.byKey.get(`${entityKey(c)}:${c.change}`);
    return e !== undefined && e.hash === contentHash(c) ? e : undefined;
  }

  /**
   * The entries still in force after a run: those that covered one of its changes, and those of
   * types the run could not judge. Any other entry's person came back or changed: a new decision.
   */
  keptAfter(
    covered: readonly DiscardedChange[],
    judgedTypes: ReadonlySet<RosterEntityType>,
  ): DiscardedChange[] {
    const still = new Set(covered);
    return this.entries.filter((e) => still.has(e) || !judgedTypes.has(e.entityType));
  }
}
