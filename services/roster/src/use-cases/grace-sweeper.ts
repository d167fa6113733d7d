import type { Logger } from '@isams-sync/logger';
import type { ChangesetStore, HeldLease, RosterPublisher } from './ports';
import { imageHash } from './records';
import type { EntityDoc, GraceDoc } from './records';
import type { ChangesetProcessor } from './changeset-processor';
import { APPROVAL_RECOVERY_WINDOW_MS } from './held-batches';
import { purgedDirectoryStateEvent, purgedStateEvent } from './roster-events';

/** How often old changesets are pruned (each prune scans `changesets`). */
const PRUNE_EVERY_MS = 3_600_000;
const DAY_MS = 86_400_000;

/**
 * Application-side expiry (FerretDB has no TTL indexes): purges the personal data of people removed
 * longer than their grace period, and prunes the change images of old changesets.
 */
export class GraceSweeper {
  private lastPruneAt: number | undefined;

  constructor(
    private readonly store: ChangesetStore,
    private readonly publisher: RosterPublisher,
    private readonly processor: ChangesetProcessor,
    private readonly logger: Logger,
    private readonly graceDays: number,
  ) {}

  /**
   * Purges people whose grace ended before `now`: first a `purged` state record without data (live
   * followers of the state topic see the purge), then a tombstone for the same key (so compaction
   * forgets the key and every earlier record of it), then the stored image is reduced to `{ id }`,
   * then the queue entry goes. Emits no change event and nothing personal. Idempotent — a crash before
   * the queue entry is gone re-publishes the same record id and another tombstone, both harmless; a
   * school another replica holds is left to the next sweep. Returns how many queue entries were handled.
   */
  async purgeExpired(now: Date, batchSize = 500): Promise<number> {
    let total = 0;
    const skipped: string[] = [];
    for (;;) {
      const due = await this.store.graceDue(now, batchSize, skipped);
      if (due.length === 0) return total;
      const byTenant = new Map<string, GraceDoc[]>();
      for (const d of due) byTenant.set(d.tenantId, [...(byTenant.get(d.tenantId) ?? []), d]);
      for (const [tenantId, docs] of byTenant) {
        const ran = await this.processor.tryWithTenant(tenantId, (lease) =>
          this.purgeTenant(tenantId, docs, now, lease),
        );
        if (ran) total += docs.length;
        else skipped.push(tenantId);
      }
    }
  }

  private async purgeTenant(tenantId: string, docs: GraceDoc[], now: Date, lease: HeldLease): Promise<void> {
    const purged: EntityDoc[] = [];
    const purgeable: { doc: GraceDoc; rec: EntityDoc }[] = [];
    for (const d of docs) {
      const rec = (await this.store.entityDocs(tenantId, d.entityType, [d.entityId])).get(d.entityId);
      // Restored (or already purged) since it was queued: nothing to purge.
      if (rec === undefined || rec.status !== 'removed' || rec.purged) continue;
      purgeable.push({ doc: d, rec });
      const image = { id: d.entityId };
      purged.push({ ...rec, image, hash: imageHash(image), purged: true, purgedAt: now.toISOString() });
    }
    await lease.fence.check();
    await this.publisher.publishState(
      purgeable.map((p) => purgedStateEvent(tenantId, p.doc.entityType, p.doc.entityId, p.rec, now)),
      purgeable.flatMap(
        (p) => purgedDirectoryStateEvent(tenantId, p.doc.entityType, p.doc.entityId, p.rec, now) ?? [],
      ),
    );
    await this.publisher.publishStateTombstones(
      purgeable.map((p) => ({ tenantId, entityType: p.doc.entityType, entityId: p.doc.entityId })),
    );
    await this.store.putEntities(purged, () => false, lease.fence);
    await this.store.updateManifest(
      tenantId,
      purged.map((p) => ({
        entityType: p.entityType,
        entry: { id: p.entityId, hash: p.hash, status: 'removed' as const, purged: true as const },
      })),
      lease.fence,
    );
    for (const d of docs) await this.store.leaveGrace(tenantId, d._id, lease.fence);
    if (purgeable.length > 0)
      this.logger.info({ tenantId, purged: purgeable.length }, 'purged personal data after the grace period');
  }

  /**
   * Deletes what holds people's images once the grace period is over: the raw chunks and change
   * chunks of changesets finished that long ago, and the held items of batches decided that long ago
   * (their decision, counts and who decided stay) — never before the approval recovery window has
   * passed, which may still need an approved batch's items. Returns how many it pruned.
   */
  async pruneOldChangesets(now: Date): Promise<number> {
    // The query scans every changeset on FerretDB: once an hour is plenty for a 14-day retention.
    if (this.lastPruneAt !== undefined && now.getTime() - this.lastPruneAt < PRUNE_EVERY_MS) return 0;
    this.lastPruneAt = now.getTime();
    const cutoff = new Date(now.getTime() - this.graceDays * DAY_MS);
    const old = await this.store.finishedBefore(cutoff, 100);
    for (const cs of old) await this.store.pruneChangeset(cs);
    const decidedBefore = new Date(
      Math.min(cutoff.getTime(), now.getTime() - APPROVAL_RECOVERY_WINDOW_MS - DAY_MS),
    );
    const decided = await this.store.decidedBatchesBefore(decidedBefore, 100);
    for (const batch of decided) await this.store.pruneHeldItems(batch, now);
    return old.length + decided.length;
  }
}
