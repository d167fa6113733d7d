import type { CloudEvent, RosterEntityType } from '@isams-sync/events';
import type { DatasetId } from '@isams-sync/isams';
import type { RemovalThresholds } from '../../src/domain/guard';
import type { DiscardedChange } from '../../src/domain/held-batch';
import { RosterErrors } from '../../src/domain/roster-errors';
import type { RosterEntity, RosterFinding } from '../../src/domain/roster-model';
import type {
  ChangesetOrder,
  BatchDecision,
  ChangesetStore,
  ChunkStaging,
  HeldBatchRevision,
  HeldLease,
  RosterPublisher,
  RosterReadStore,
  SyncApplying,
  TenantLeasing,
  WriteFence,
} from '../../src/use-cases/ports';
import {
  RUN_STATES,
  addStaged,
  changeChunkDocs,
  findingChunkDocs,
  ids,
  readHeldItems,
  rollChangesetForward,
  toRecord,
} from '../../src/use-cases/records';
import type {
  ChangeChunkDoc,
  ChangesetDoc,
  EntityDoc,
  EntityRecord,
  FindingChunkDoc,
  GraceDoc,
  HeldBatchDoc,
  Manifest,
  ManifestEntry,
  RawChunkDoc,
  StagedChunks,
  StoredChange,
} from '../../src/use-cases/records';

/**
 * In-memory implementations of the roster's ports, for unit tests of the use-cases (the changeset
 * processor's crash matrix). They keep the rules the use-cases rely on from the MongoDB store and
 * leases, and nothing else:
 *
 * - fencing: each `run` under the lease is a new generation; a write with a fence is checked before
 *   and after (as libs/mongo `fencedWrite`), an entity a newer generation wrote is not replaced, and a
 *   refused write is `ROSTER_TENANT_LEASE_LOST` — what the real `TenantLeases` turns `MONGO_FENCED` into;
 * - step claims: the first decision of a (changeset, state) wins, the same generation wins again, a
 *   later one adopts it, an older one is refused; `loadChangeset` rolls a changeset forward through them;
 * - unique ids: an insert of an id already stored leaves the stored record (changesets, change and
 *   finding chunks, grace entries, held batches), as the unique `_id` does;
 * - chunking: changes and findings are stored in chunks of CHANGE_CHUNK_SIZE / FINDING_CHUNK_SIZE;
 * - staged chunks are their own receipts: a chunk delivered again keeps its content and takes the
 *   new time (`newestChunkAt`, `runsStagedBefore`);
 * - every read and write copies (`structuredClone`), so nothing a caller keeps aliases the state.
 *
 * Not modelled: tenancy checks, manifest chunks (entries merge into one map per type: the processor
 * passes the manifest it just read under its lease as `current`, so the real store's rewrite of the
 * touched chunks from it gives the same entries), legacy buckets (none), tracing. The real adapters
 * are covered by the integration tests.
 */
export interface MemoryRosterState {
  changesets: Map<string, ChangesetDoc & { fence?: number; pruned?: boolean }>;
  /** The unfinished-changeset list (`openChangesets`), id → receivedAt and tenant. */
  open: Map<string, { tenantId: string; receivedAt: Date }>;
  claims: Map<string, { patch: Partial<ChangesetDoc>; token: number | null }>;
  rawChunks: Map<string, RawChunkDoc>;
  changeChunks: Map<string, ChangeChunkDoc>;
  findingChunks: Map<string, FindingChunkDoc>;
  entities: Map<string, EntityDoc & { fence?: number }>;
  manifests: Map<string, Manifest>;
  grace: Map<string, GraceDoc>;
  heldBatches: Map<string, HeldBatchDoc & { fence?: number }>;
  discarded: Map<string, DiscardedChange[]>;
  thresholds: Map<string, RemovalThresholds>;
  changesetNumbers: Map<string, number>;
  /** Per school: what orders its changesets (`ChangesetStore.changesetOrder`). */
  changesetOrders: Map<string, ChangesetOrder>;
  /** Per tenant, the newest lease generation and its holder (null: free). */
  leases: Map<string, { generation: number; holder: string | null }>;
}

/** Stores `image` in `state` as an active entity of `tenantId`, written by run `r1` (read-side tests). */
export function putActiveEntity(
  state: MemoryRosterState,
  tenantId: string,
  entityType: RosterEntityType,
  image: RosterEntity,
): void {
  const _id = ids.entity(tenantId, entityType, image.id);
  state.entities.set(_id, {
    _id,
    tenantId,
    hash: 'h',
    image,
    entityType,
    entityId: image.id,
    status: 'active',
    lastChangeId: 'r1#1',
    lastSyncRunId: 'r1',
    changedAt: '2026-01-01T00:00:00.000Z',
    removedAt: null,
    graceUntil: null,
    removal: null,
    purged: false,
    purgedAt: null,
  });
}

export function emptyRosterState(): MemoryRosterState {
  return {
    changesets: new Map(),
    open: new Map(),
    claims: new Map(),
    rawChunks: new Map(),
    changeChunks: new Map(),
    findingChunks: new Map(),
    entities: new Map(),
    manifests: new Map(),
    grace: new Map(),
    heldBatches: new Map(),
    discarded: new Map(),
    thresholds: new Map(),
    changesetNumbers: new Map(),
    changesetOrders: new Map(),
    leases: new Map(),
  };
}

const copy = <T>(v: T): T => structuredClone(v);
/** A copy of the stored record `id` of `map`, or null: what a single-record read returns. */
const storedCopy = <T>(map: ReadonlyMap<string, T>, id: string): T | null => {
  const v = map.get(id);
  return v === undefined ? null : copy(v);
};
const leaseLost = (fence: WriteFence): Error =>
  RosterErrors.ROSTER_TENANT_LEASE_LOST(undefined, {
    cause: new Error(`fenced: generation ${fence.token} of ${fence.key} is not the newest`),
  });

/**
 * Per-school leases over the shared state: every `run` takes a new generation (its fencing token);
 * a school another owner holds is busy at once (`waitMs` is not waited: nothing else runs meanwhile).
 */
export class MemoryTenantLeasing implements TenantLeasing {
  constructor(
    private readonly state: MemoryRosterState,
    readonly owner: string,
  ) {}

  async run<T>(
    tenantId: string,
    _waitMs: number,
    fn: (lease: HeldLease) => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }> {
    const current = this.state.leases.get(tenantId) ?? { generation: 0, holder: null };
    if (current.holder !== null && current.holder !== this.owner) return { ran: false };
    const generation = current.generation + 1;
    this.state.leases.set(tenantId, { generation, holder: this.owner });
    const state = this.state;
    const fence: WriteFence = {
      key: tenantId,
      token: generation,
      async check() {
        if (state.leases.get(tenantId)?.generation !== generation) throw leaseLost(fence);
      },
    };
    const lease: HeldLease = {
      tenantId,
      generation,
      fence,
      get lost() {
        return state.leases.get(tenantId)?.generation !== generation;
      },
      assertHeld() {
        if (this.lost) throw leaseLost(fence);
      },
    };
    try {
      return { ran: true, value: await fn(lease) };
    } finally {
      const now = this.state.leases.get(tenantId);
      if (now?.generation === generation) now.holder = null;
    }
  }

  /** Another replica takes the school over (a newer generation): this holder's fence goes stale. */
  static takeOver(state: MemoryRosterState, tenantId: string): void {
    const current = state.leases.get(tenantId) ?? { generation: 0, holder: null };
    state.leases.set(tenantId, { generation: current.generation + 1, holder: null });
  }
}

/** Checks the fence, writes, checks again (libs/mongo `fencedWrite`). */
async function fenced<T>(fence: WriteFence | undefined, write: () => T): Promise<T> {
  await fence?.check();
  const result = write();
  await fence?.check();
  return result;
}

/** Stores a copy unless the id is taken; true when it stored it. */
function insertIfAbsent<T>(map: Map<string, T>, id: string, value: T): boolean {
  if (map.has(id)) return false;
  map.set(id, copy(value));
  return true;
}

/** Inserts each document not stored yet, under the fence (none: no write, no fence check). */
async function insertAllIfAbsent<T extends { _id: string }>(
  map: Map<string, T>,
  docs: readonly T[],
  fence: WriteFence,
): Promise<void> {
  if (docs.length === 0) return;
  await fenced(fence, () => {
    for (const d of docs) insertIfAbsent(map, d._id, d);
  });
}

export class MemoryRosterStore implements ChangesetStore, ChunkStaging, RosterReadStore {
  constructor(readonly state: MemoryRosterState) {}

  // ---- changesets ---------------------------------------------------------------------------------

  async createChangeset(created: ChangesetDoc, fence?: WriteFence): Promise<ChangesetDoc> {
    await fenced(fence, () =>
      insertIfAbsent(this.state.open, created._id, {
        tenantId: created.tenantId,
        receivedAt: created.receivedAt,
      }),
    );
    await fenced(fence, () =>
      insertIfAbsent(this.state.changesets, created._id, {
        ...created,
        ...(fence ? { fence: fence.token } : {}),
      }),
    );
    return (await this.getChangeset(created.tenantId, created._id))!;
  }

  async loadChangeset(
    _tenantId: string,
    id: string,
  ): Promise<{ doc: ChangesetDoc; behind: Partial<ChangesetDoc> | null } | null> {
    const stored = this.state.changesets.get(id);
    if (stored === undefined) return null;
    return rollChangesetForward(copy(stored), async (state) => {
      const claim = this.state.claims.get(`${id}|${state}`);
      return claim === undefined ? null : copy(claim.patch);
    });
  }

  async getChangeset(tenantId: string, id: string): Promise<ChangesetDoc | null> {
    return (await this.loadChangeset(tenantId, id))?.doc ?? null;
  }

  async decideStep(
    cs: ChangesetDoc,
    patch: Partial<ChangesetDoc>,
    fence: WriteFence,
  ): Promise<{ won: boolean; patch: Partial<ChangesetDoc> }> {
    await fence.check();
    const key = `${cs._id}|${cs.state}`;
    const existing = this.state.claims.get(key);
    if (existing !== undefined) {
      if (existing.token === fence.token) return { won: true, patch: copy(existing.patch) };
      if (existing.token !== null && existing.token > fence.token) throw leaseLost(fence);
      return { won: false, patch: copy(existing.patch) };
    }
    this.state.claims.set(key, { patch: copy(patch), token: fence.token });
    await fence.check();
    return { won: true, patch: copy(patch) };
  }

  async updateChangeset(
    _tenantId: string,
    id: string,
    set: Partial<ChangesetDoc>,
    fence?: WriteFence,
  ): Promise<void> {
    await fenced(fence, () => {
      const stored = this.state.changesets.get(id);
      if (stored !== undefined)
        this.state.changesets.set(id, { ...stored, ...copy(set), ...(fence ? { fence: fence.token } : {}) });
    });
  }

  async closeChangeset(_tenantId: string, id: string, fence?: WriteFence): Promise<void> {
    await fenced(fence, () => this.state.open.delete(id));
  }

  async unfinishedChangesets(opts: { rebuild?: boolean } = {}): Promise<ChangesetDoc[]> {
    const byReceived = (a: ChangesetDoc, b: ChangesetDoc) => a.receivedAt.getTime() - b.receivedAt.getTime();
    if (opts.rebuild) {
      const all = [...this.state.changesets.values()]
        .filter((cs) => cs.state !== 'done' && cs.state !== 'failed')
        .map((cs) => copy(cs))
        .sort(byReceived);
      for (const cs of all)
        insertIfAbsent(this.state.open, cs._id, { tenantId: cs.tenantId, receivedAt: cs.receivedAt });
      return all;
    }
    const out: ChangesetDoc[] = [];
    for (const [id, entry] of [...this.state.open]) {
      const loaded = await this.loadChangeset(entry.tenantId, id);
      const cs = loaded?.doc ?? null;
      const finished = cs !== null && (cs.state === 'done' || cs.state === 'failed');
      if (finished && loaded?.behind === null) this.state.open.delete(id);
      else if (cs !== null) out.push(cs);
    }
    return out.sort(byReceived);
  }

  async nextChangesetNumber(tenantId: string, fence: WriteFence, applying?: SyncApplying): Promise<number> {
    return fenced(fence, () => {
      const n = (this.state.changesetNumbers.get(tenantId) ?? 0) + 1;
      this.state.changesetNumbers.set(tenantId, n);
      if (applying !== undefined) {
        const order = this.state.changesetOrders.get(tenantId) ?? {};
        const lastSyncFetchedAt = newestOf(order.lastSyncFetchedAt, applying.syncFetchedAt);
        const lastSyncFetchSequence = newestOf(order.lastSyncFetchSequence, applying.syncFetchSequence);
        this.state.changesetOrders.set(tenantId, {
          applying: applying.changesetId,
          ...(lastSyncFetchedAt === undefined ? {} : { lastSyncFetchedAt }),
          ...(lastSyncFetchSequence === undefined ? {} : { lastSyncFetchSequence }),
        });
      }
      return n;
    });
  }

  async changesetOrder(tenantId: string): Promise<ChangesetOrder> {
    return copy(this.state.changesetOrders.get(tenantId) ?? {});
  }

  async finishedBefore(cutoff: Date, limit: number): Promise<ChangesetDoc[]> {
    return [...this.state.changesets.values()]
      .filter(
        (cs) =>
          (cs.state === 'done' || cs.state === 'failed') &&
          cs.completedAt !== undefined &&
          cs.completedAt < cutoff &&
          cs.pruned !== true,
      )
      .slice(0, limit)
      .map((cs) => copy(cs));
  }

  async pruneChangeset(cs: ChangesetDoc): Promise<void> {
    await this.dropChunks(cs.tenantId, cs.syncRunId);
    await this.dropChanges(cs.tenantId, cs._id);
    const stored = this.state.changesets.get(cs._id);
    if (stored !== undefined) stored.pruned = true;
    for (const step of RUN_STATES) this.state.claims.delete(`${cs._id}|${step}`);
  }

  async decidedBatchesBefore(cutoff: Date, limit: number): Promise<HeldBatchDoc[]> {
    return [...this.state.heldBatches.values()]
      .filter(
        (b) =>
          b.status !== 'pending' &&
          b.decidedAt !== undefined &&
          b.decidedAt < cutoff &&
          b.itemsPrunedAt === undefined,
      )
      .slice(0, limit)
      .map((b) => copy(b));
  }

  async pruneHeldItems(batch: HeldBatchDoc, at: Date): Promise<void> {
    if (batch.itemsChangesetId !== undefined) await this.dropChanges(batch.tenantId, batch.itemsChangesetId);
    const stored = this.state.heldBatches.get(batch._id);
    if (stored !== undefined)
      this.state.heldBatches.set(batch._id, { ...stored, itemChunkCount: 0, itemsPrunedAt: at });
  }

  // ---- staged chunks, planned changes, findings ---------------------------------------------------

  async stageChunk(chunk: RawChunkDoc): Promise<boolean> {
    if (insertIfAbsent(this.state.rawChunks, chunk._id, chunk)) return true;
    // Delivered again: the receipt's time is renewed (here the chunk is its own receipt).
    this.state.rawChunks.get(chunk._id)!.receivedAt = new Date(chunk.receivedAt);
    return false;
  }

  async runsStagedBefore(
    before: Date,
    limit: number,
    skipRunIds: readonly string[] = [],
  ): Promise<{ tenantId: string; syncRunId: string }[]> {
    const runs = new Map<string, { tenantId: string; syncRunId: string }>();
    [...this.state.rawChunks.values()]
      .filter((c) => c.receivedAt < before && !skipRunIds.includes(c.syncRunId))
      .slice(0, limit)
      .forEach((c) =>
        runs.set(`${c.tenantId}|${c.syncRunId}`, { tenantId: c.tenantId, syncRunId: c.syncRunId }),
      );
    return [...runs.values()];
  }

  async newestChunkAt(tenantId: string, syncRunId: string): Promise<Date | null> {
    const times = [...this.state.rawChunks.values()]
      .filter((c) => c.tenantId === tenantId && c.syncRunId === syncRunId)
      .map((c) => c.receivedAt.getTime());
    return times.length === 0 ? null : new Date(Math.max(...times));
  }

  async stagedChunks(tenantId: string, syncRunId: string): Promise<StagedChunks> {
    const out = new Map<DatasetId, Map<string, Set<number>>>();
    for (const c of this.state.rawChunks.values())
      if (c.tenantId === tenantId && c.syncRunId === syncRunId) addStaged(out, c);
    return out;
  }

  async loadChunk(
    tenantId: string,
    syncRunId: string,
    datasetId: DatasetId,
    fingerprint: string,
    chunkIndex: number,
  ): Promise<RawChunkDoc | null> {
    return storedCopy(
      this.state.rawChunks,
      ids.chunk(tenantId, syncRunId, datasetId, fingerprint, chunkIndex),
    );
  }

  async dropChunks(tenantId: string, syncRunId: string, fence?: WriteFence): Promise<void> {
    await fenced(fence, () => {
      for (const [id, c] of this.state.rawChunks)
        if (c.tenantId === tenantId && c.syncRunId === syncRunId) this.state.rawChunks.delete(id);
    });
  }

  async saveChanges(
    tenantId: string,
    changesetId: string,
    changes: readonly StoredChange[],
    fence: WriteFence,
  ): Promise<void> {
    await insertAllIfAbsent(this.state.changeChunks, changeChunkDocs(tenantId, changesetId, changes), fence);
  }

  async changeChunk(_tenantId: string, changesetId: string, chunkNo: number): Promise<ChangeChunkDoc | null> {
    return storedCopy(this.state.changeChunks, ids.changeChunk(changesetId, chunkNo));
  }

  async dropChanges(_tenantId: string, changesetId: string, fence?: WriteFence): Promise<void> {
    await fence?.check();
    for (const [id, c] of this.state.changeChunks)
      if (c.changesetId === changesetId) this.state.changeChunks.delete(id);
  }

  async saveFindings(
    tenantId: string,
    syncRunId: string,
    findings: readonly RosterFinding[],
    fence: WriteFence,
  ): Promise<void> {
    await insertAllIfAbsent(this.state.findingChunks, findingChunkDocs(tenantId, syncRunId, findings), fence);
  }

  async findingChunk(tenantId: string, syncRunId: string, chunkNo: number): Promise<FindingChunkDoc | null> {
    return storedCopy(this.state.findingChunks, ids.findingChunk(tenantId, syncRunId, chunkNo));
  }

  // ---- the stored roster --------------------------------------------------------------------------

  async loadManifest(tenantId: string): Promise<Manifest> {
    return copy(this.state.manifests.get(tenantId) ?? {});
  }

  async updateManifest(
    tenantId: string,
    updates: ReadonlyArray<{ entityType: RosterEntityType; entry: ManifestEntry }>,
    fence?: WriteFence,
  ): Promise<void> {
    await fenced(fence, () => {
      const manifest = this.state.manifests.get(tenantId) ?? {};
      for (const u of updates) (manifest[u.entityType] ??= new Map()).set(u.entry.id, copy(u.entry));
      this.state.manifests.set(tenantId, manifest);
    });
  }

  async putEntities(docs: readonly EntityDoc[], _fresh: unknown, fence?: WriteFence): Promise<void> {
    await fenced(fence, () => {
      // A document a newer generation wrote is not replaced (the mongo store's `fenceCondition`).
      for (const d of docs) {
        const stored = this.state.entities.get(d._id)?.fence;
        if (fence !== undefined && stored !== undefined && stored > fence.token) throw leaseLost(fence);
      }
      for (const d of docs)
        this.state.entities.set(d._id, { ...copy(d), ...(fence ? { fence: fence.token } : {}) });
    });
  }

  async entityDocs(
    tenantId: string,
    entityType: RosterEntityType,
    entityIds: Iterable<string>,
  ): Promise<Map<string, EntityDoc>> {
    const out = new Map<string, EntityDoc>();
    for (const id of entityIds) {
      const d = this.state.entities.get(ids.entity(tenantId, entityType, id));
      if (d !== undefined) out.set(id, copy(d));
    }
    return out;
  }

  async listEntityDocs(
    tenantId: string,
    entityType?: RosterEntityType,
    status?: EntityDoc['status'],
  ): Promise<EntityDoc[]> {
    return [...this.state.entities.values()]
      .filter(
        (d) =>
          d.tenantId === tenantId &&
          (entityType === undefined || d.entityType === entityType) &&
          (status === undefined || d.status === status),
      )
      .map((d) => copy(d));
  }

  async entity(
    tenantId: string,
    entityType: RosterEntityType,
    entityId: string,
  ): Promise<EntityRecord | null> {
    const d = this.state.entities.get(ids.entity(tenantId, entityType, entityId));
    return d === undefined ? null : toRecord(copy(d));
  }

  async thresholds(tenantId: string): Promise<RemovalThresholds | undefined> {
    return copy(this.state.thresholds.get(tenantId));
  }

  async setThresholds(tenantId: string, thresholds: RemovalThresholds): Promise<void> {
    this.state.thresholds.set(tenantId, copy(thresholds));
  }

  // ---- grace --------------------------------------------------------------------------------------

  async enterGrace(entries: readonly GraceDoc[], fence: WriteFence): Promise<void> {
    await insertAllIfAbsent(this.state.grace, entries, fence);
  }

  async leaveGrace(_tenantId: string, graceId: string, fence: WriteFence): Promise<void> {
    await fenced(fence, () => this.state.grace.delete(graceId));
  }

  async graceDue(now: Date, limit: number, skipTenants: readonly string[] = []): Promise<GraceDoc[]> {
    return [...this.state.grace.values()]
      .filter((g) => g.graceUntil < now && !skipTenants.includes(g.tenantId))
      .slice(0, limit)
      .map((g) => copy(g));
  }

  // ---- held batches and discards ------------------------------------------------------------------

  async pendingBatch(tenantId: string): Promise<HeldBatchDoc | null> {
    const pending = (await this.listHeldBatches(tenantId, 'pending'))[0];
    return pending ?? null;
  }

  async listHeldBatches(tenantId: string, status?: HeldBatchDoc['status']): Promise<HeldBatchDoc[]> {
    return [...this.state.heldBatches.values()]
      .filter((b) => b.tenantId === tenantId && (status === undefined || b.status === status))
      .sort((a, b) => b.createdAt.getTime() - a.createdAt.getTime())
      .map((b) => copy(b));
  }

  async approvedBatchesSince(since: Date, limit: number): Promise<HeldBatchDoc[]> {
    return [...this.state.heldBatches.values()]
      .filter((b) => b.status === 'approved' && b.decidedAt !== undefined && b.decidedAt >= since)
      .sort((a, b) => a.decidedAt!.getTime() - b.decidedAt!.getTime())
      .slice(0, limit)
      .map((b) => copy(b));
  }

  async decisionsToReport(since: Date, limit: number): Promise<HeldBatchDoc[]> {
    return [...this.state.heldBatches.values()]
      .filter(
        (b) =>
          (b.status === 'discarded' || b.status === 'superseded') &&
          b.decidedAt !== undefined &&
          b.decidedAt >= since &&
          b.decisionReportedAt === undefined,
      )
      .sort((a, b) => a.decidedAt!.getTime() - b.decidedAt!.getTime())
      .slice(0, limit)
      .map((b) => copy(b));
  }

  decisionReported(batch: HeldBatchDoc, at: Date, fence: WriteFence): Promise<void> {
    return this.setBatch(batch, { decisionReportedAt: at }, fence);
  }

  async heldBatch(tenantId: string, batchId: string): Promise<HeldBatchDoc | null> {
    const b = this.state.heldBatches.get(ids.heldBatch(tenantId, batchId));
    return b === undefined ? null : copy(b);
  }

  heldItems(batch: HeldBatchDoc): Promise<StoredChange[]> {
    return readHeldItems(batch, this);
  }

  async openHeldBatch(batch: HeldBatchDoc, fence: WriteFence): Promise<void> {
    await fenced(fence, () =>
      insertIfAbsent(this.state.heldBatches, batch._id, { ...batch, fence: fence.token }),
    );
  }

  private async setBatch(batch: HeldBatchDoc, set: Partial<HeldBatchDoc>, fence: WriteFence): Promise<void> {
    await fenced(fence, () => {
      const stored = this.state.heldBatches.get(batch._id);
      if (stored !== undefined)
        this.state.heldBatches.set(batch._id, { ...stored, ...copy(set), fence: fence.token });
    });
  }

  reviseHeldBatch(batch: HeldBatchDoc, revision: HeldBatchRevision, fence: WriteFence): Promise<void> {
    return this.setBatch(batch, revision, fence);
  }

  supersedeHeldBatch(batch: HeldBatchDoc, at: Date, bySyncRunId: string, fence: WriteFence): Promise<void> {
    return this.setBatch(
      batch,
      { status: 'superseded', decidedAt: at, lastSyncRunId: bySyncRunId, updatedAt: at },
      fence,
    );
  }

  approveHeldBatch(
    batch: HeldBatchDoc,
    decision: BatchDecision & { approvalChangesetId: string },
    fence: WriteFence,
  ): Promise<void> {
    return this.setBatch(batch, { status: 'approved', ...decision }, fence);
  }

  discardHeldBatch(batch: HeldBatchDoc, decision: BatchDecision, fence: WriteFence): Promise<void> {
    return this.setBatch(batch, { status: 'discarded', ...decision }, fence);
  }

  async discarded(tenantId: string): Promise<DiscardedChange[]> {
    return copy(this.state.discarded.get(tenantId) ?? []);
  }

  async putDiscarded(
    tenantId: string,
    entries: DiscardedChange[],
    _now: Date,
    fence: WriteFence,
  ): Promise<void> {
    await fenced(fence, () => this.state.discarded.set(tenantId, copy(entries)));
  }

  // ---- before #17: nothing to migrate -------------------------------------------------------------

  async legacyBucketTenants(): Promise<string[]> {
    return [];
  }

  async migrateTenantBuckets(): Promise<number> {
    return 0;
  }
}

/** One acknowledged publish call, in order. */
export type Published =
  | { kind: 'state' | 'changes'; events: CloudEvent[]; directory: CloudEvent[] }
  | { kind: 'tombstones'; keys: string[] }
  | { kind: 'run'; event: CloudEvent };

/**
 * A publisher whose "broker" is a list: every call is acknowledged and kept, in order (duplicates
 * too). Events are kept as sent (not copied): the processor makes each one fresh and never touches it again.
 */
export class MemoryPublisher implements RosterPublisher {
  readonly log: Published[] = [];

  async publishChanges(events: readonly CloudEvent[], directory: readonly CloudEvent[] = []): Promise<void> {
    this.log.push({ kind: 'changes', events: [...events], directory: [...directory] });
  }

  async publishState(events: readonly CloudEvent[], directory: readonly CloudEvent[] = []): Promise<void> {
    this.log.push({ kind: 'state', events: [...events], directory: [...directory] });
  }

  async publishStateTombstones(
    tombstones: readonly { tenantId: string; entityType: string; entityId: string }[],
  ): Promise<void> {
    this.log.push({
      kind: 'tombstones',
      keys: tombstones.map((t) => `${t.tenantId}/${t.entityType}/${t.entityId}`),
    });
  }

  async publishRunUpdate(event: CloudEvent): Promise<void> {
    this.log.push({ kind: 'run', event });
  }

  /** The events published on one stream, in order (duplicates included). */
  events(kind: 'state' | 'changes' | 'run'): CloudEvent[] {
    return this.log.flatMap((p) => {
      if (p.kind === 'tombstones' || p.kind !== kind) return [];
      return p.kind === 'run' ? [p.event] : p.events;
    });
  }
}

/** The greater of two values, either of which may be missing (MongoDB's `$max` on an absent field). */
function newestOf<T extends Date | number>(stored: T | undefined, given: T | undefined): T | undefined {
  if (stored === undefined) return given;
  return given !== undefined && given > stored ? given : stored;
}
