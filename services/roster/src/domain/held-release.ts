import { canonicalJson, changedFields } from './diff';
import type { PlannedChange, StoredByType } from './diff';

/**
 * The changes an approved batch applies: each held change, in the held order, against the roster as
 * it is at approval — a removal of an entity still active (its current image as `before`), and for
 * an addition, update or restore the held image: `added` when the entity is unknown or purged,
 * `restored` when it is removed, `updated` when it is active with another image. What is already so
 * is skipped, so approving applies the run as it would have been applied, and never twice.
 */
export function releaseHeld(held: readonly PlannedChange[], stored: StoredByType): PlannedChange[] {
  const out: PlannedChange[] = [];
  for (const c of held) {
    const now = stored[c.entityType]?.get(c.entityId);
    const base = { entityType: c.entityType, entityId: c.entityId };
    if (c.change === 'removed') {
      if (now?.status === 'active') out.push({ ...base, change: 'removed', before: now.data });
      continue;
    }
    const after = c.after!;
    if (now === undefined || (now.status === 'removed' && now.purged === true))
      out.push({ ...base, change: 'added', after });
    else if (now.status === 'removed')
      out.push({
        ...base,
        change: 'restored',
        before: now.data,
        after,
        changedFields: changedFields(now.data, after),
      });
    else if (canonicalJson(now.data) !== canonicalJson(after))
      out.push({
        ...base,
        change: 'updated',
        before: now.data,
        after,
        changedFields: changedFields(now.data, after),
      });
  }
  return out;
}
