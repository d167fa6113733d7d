import type { Collection, Db, Document } from 'mongodb';
import {
  MongoErrors,
  claimStep,
  deleteStepClaims,
  ensureIndexes,
  fenceCondition,
  fencedWrite,
  isDuplicateKeyError,
  leaseIndexes,
  packJson,
  readStepClaim,
  tenantCollection,
  toMongoError,
  unpackJson,
  withMongoErrors,
} from '@isams-sync/mongo';
import type { CollectionIndexSpec, Fence, StepClaimDocument, TenantCollection } from '@isams-sync/mongo';
import type { RosterEntityType } from '@isams-sync/events';
import type { DatasetId } from '@isams-sync/isams';
import type { StoredByType, StoredEntity } from '../../domain/diff';
import type { RemovalThresholds } from '../../domain/guard';
import type { DiscardedChange } from '../../domain/held-batch';
import type { RosterFinding } from '../../domain/roster-model';
import { forEachConcurrently } from '@isams-sync/runtime';
import { traceCarrierOf } from '@isams-sync/telemetry';
import { MANIFEST_CHUNKS, chunkOf } from './documents';
import { layoutChunk, mergeParts, partOfStored, storedChunkOf, writeWaves } from './manifest-parts';
import type {
  ChunkReceiptDoc,
  DiscardedChangesDoc,
  EntityBucketDoc,
  ManifestChunkDoc,
  OpenChangesetDoc,
  SettingsDoc,
} from './documents';
import { ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type {
  BatchDecision,
  ChangesetOrder,
  ChangesetStore,
  ChunkStaging,
  HeldBatchRevision,
  RosterReadStore,
  SyncApplying,
} from '../../use-cases/ports';
import {
  RUN_STATES,
  addStaged,
  changeChunkDocs,
  entityDocOf,
  findingChunkDocs,
  ids,
  manifestEntryOf,
  readHeldItems,
  rollChangesetForward,
  toRecord,
} from '../../use-cases/records';
import type {
  ChangeChunkDoc,
  ChangesetDoc,
  StagedChunks,
  EntityDoc,
  EntityRecord,
  FindingChunkDoc,
  GraceDoc,
  HeldBatchDoc,
  Manifest,
  ManifestEntry,
  RawChunkDoc,
  StoredChange,
} from '../../use-cases/records';

export const COLLECTIONS = {
  rawChunks: 'rawChunks',
  chunkReceipts: 'chunkReceipts',
  changesets: 'changesets',
  changeChunks: 'changeChunks',
  findingChunks: 'findingChunks',
  /** One document per stored entity (`<tenant>|<type>|<id>`). */
  entities: 'entities',
  /** Per school and type, the content hashes of its entities (`<tenant>|<type>|m<n>`, packed). */
  entityManifests: 'entityManifests',
  /** The stored roster before #17 (packed buckets); migrated to `entities` + `entityManifests` on start. */
  entityBuckets: 'entityBuckets',
  graceQueue: 'graceQueue',
  heldBatches: 'heldBatches',
  /** Per school, the discarded changes that still hold (`<tenant>|discarded`, read by `_id`). */
  discardedChanges: 'discardedChanges',
  settings: 'settings',
  /** Per-school leases (cross-replica exclusion, `TenantLeases`); keyed by tenant id, no `tenantId` field. */
  leases: 'leases',
  openChangesets: 'openChangesets',
  /** The decided step of each changeset state (`<changesetId>|<state left>`, libs/mongo step claims). */
  changesetSteps: 'changesetSteps',
} as const;

/** Every index the roster needs (no TTL: FerretDB has none; expiry is the sweeper's job). */
export const ROSTER_INDEXES: CollectionIndexSpec[] = [
  {
    collection: COLLECTIONS.rawChunks,
    indexes: [{ key: { tenantId: 1, syncRunId: 1 }, name: 'tenant_run' }],
  },
  {
    collection: COLLECTIONS.chunkReceipts,
    indexes: [
      { key: { tenantId: 1, syncRunId: 1 }, name: 'tenant_run' },
      // The sweep of abandoned chunks: receipts of every school staged before a cutoff, and (missing
      // indexed as null) those staged before receipts recorded the time.
      { key: { receivedAt: 1 }, name: 'received_at' },
    ],
  },
  {
    collection: COLLECTIONS.changesets,
    indexes: [{ key: { state: 1, receivedAt: 1 }, name: 'state_received' }],
  },
  {
    collection: COLLECTIONS.changeChunks,
    indexes: [{ key: { tenantId: 1, changesetId: 1, chunkNo: 1 }, name: 'changeset_chunks', unique: true }],
  },
  {
    collection: COLLECTIONS.findingChunks,
    indexes: [{ key: { tenantId: 1, syncRunId: 1, chunkNo: 1 }, name: 'run_findings', unique: true }],
  },
  {
    collection: COLLECTIONS.entities,
    // GetEntity and single lookups go by `_id`. This one index keeps (tenant, type, id) unique and
    // serves every other entity query: `$in` image reads, a whole type, ListEntities (its `status`
    // filter is applied to the type's entries — most are active, so a `status` key would save
    // little and cost every one of a first sync's tens of thousands of inserts one more index write).
    indexes: [{ key: { tenantId: 1, entityType: 1, entityId: 1 }, name: 'tenant_type_id', unique: true }],
  },
  {
    collection: COLLECTIONS.entityManifests,
    // A school's manifest (every type, or one) in one query.
    indexes: [{ key: { tenantId: 1, entityType: 1, chunk: 1 }, name: 'tenant_type_chunk', unique: true }],
  },
  { collection: COLLECTIONS.graceQueue, indexes: [{ key: { graceUntil: 1 }, name: 'grace_until' }] },
  {
    collection: COLLECTIONS.heldBatches,
    indexes: [
      { key: { tenantId: 1, status: 1, createdAt: 1 }, name: 'tenant_status' },
      // `roster_held_batches` metrics: pending batches of every school, oldest first.
      { key: { status: 1, createdAt: 1 }, name: 'status_created' },
      // The sweeper's checks of recent decisions: approvals without their changeset, discards not reported.
      { key: { status: 1, decidedAt: 1 }, name: 'status_decided' },
    ],
  },
  leaseIndexes(COLLECTIONS.leases),
  // Read and written by `_id` only.
  { collection: COLLECTIONS.changesetSteps, indexes: [] },
  { collection: COLLECTIONS.discardedChanges, indexes: [] },
];

/** Entity documents per `insertMany` (FerretDB 1.24 stops answering on a bulk write of ~200). */
const ENTITY_WRITE_CHUNK = 50;
/** Statements per replacing `bulkWrite`, as libs/mongo's `updateEach`. */
const UPDATE_CHUNK = 20;
/** Entity ids per `$in` query (on `tenant_type_id`). */
const IDS_PER_QUERY = 500;
/**
 * Up to this many images are read by `_id`, POINT_READS_IN_FLIGHT at a time: an `_id` lookup is the
 * one read every backend answers by index (FerretDB/PostgreSQL through the local index twins), while
 * FerretDB evaluates `$in` in Go over every document of the type. On MongoDB both are index reads.
 */
const POINT_READS_UP_TO = 300;
const POINT_READS_IN_FLIGHT = 8;
/** Replacing writes (entity `bulkWrite`s, manifest chunks) in flight at once (FerretDB/PostgreSQL runs writers concurrently). */
const REPLACES_IN_FLIGHT = 4;
/** Entity `insertMany` commands in flight at once. */
const INSERTS_IN_FLIGHT = 4;

/** From this many images of one type, the whole type is read in one query (on `tenant_type_id`'s prefix). */
const WHOLE_TYPE_FROM = 5000;

/**
 * The bulky array of each of these collections is stored as one packed binary field (`packed`, see
 * `packJson`): FerretDB decodes every nested field on each read, which made reading back a large
 * school's staged records, change images and roster buckets take minutes. The fields the store
 * filters on stay top-level. The store packs on write and unpacks on read, so callers see plain arrays.
 */
const PACKED_FIELD = {
  [COLLECTIONS.rawChunks]: 'records',
  [COLLECTIONS.changeChunks]: 'changes',
  [COLLECTIONS.findingChunks]: 'findings',
  [COLLECTIONS.entityBuckets]: 'entities',
  [COLLECTIONS.entityManifests]: 'entries',
} as const;
type PackedCollection = keyof typeof PACKED_FIELD;

function packDoc<T extends object>(name: PackedCollection, doc: T): Document {
  const field = PACKED_FIELD[name];
  const { [field]: bulky, ...rest } = doc as Record<string, unknown>;
  return { ...rest, packed: packJson(bulky ?? []) };
}

function unpackDoc<T>(name: PackedCollection, stored: Document): T {
  const { packed, ...rest } = stored;
  const field = PACKED_FIELD[name];
  return { ...rest, [field]: unpackJson(packed, `${name}.${field}`) } as T;
}

/**
 * The roster's MongoDB persistence. Point reads and writes go by `_id` only, and every `_id` starts
 * with `<tenantId>|`: on FerretDB 1.24 any other filter (including `tenantCollection`'s added
 * `tenantId`) is a collection scan, ~10× slower per call. Tenancy is kept by construction (the id
 * embeds the tenant) and checked on every document read. Multi-document queries use `tenantCollection`.
 */
export class RosterStore implements ChangesetStore, ChunkStaging, RosterReadStore {
  constructor(readonly db: Db) {}

  async init(): Promise<void> {
    await ensureIndexes(this.db, ROSTER_INDEXES);
  }

  private raw<T extends Document>(name: string): Collection<T> {
    return this.db.collection<T>(name);
  }

  /** A write under a lease: checked against its fence before and after (libs/mongo `fencedWrite`). */
  private fenced<T>(fence: Fence | undefined, write: () => Promise<T>): Promise<T> {
    return fence === undefined ? write() : fencedWrite(fence, write);
  }

  private assertTenant(tenantId: string, id: string): void {
    if (!id.startsWith(`${tenantId}|`)) throw MongoErrors.MONGO_TENANT_MISMATCH({ collection: 'roster' });
  }

  /** A document by `_id`, null when absent or (defensively) of another tenant. */
  async byId<T extends { tenantId: string }>(name: string, tenantId: string, id: string): Promise<T | null> {
    this.assertTenant(tenantId, id);
    const doc = await withMongoErrors({ operation: 'findOne', collection: name }, () =>
      this.raw<Document>(name).findOne({ _id: id as never }),
    );
    return doc === null || doc.tenantId !== tenantId ? null : (doc as unknown as T);
  }

  /**
   * Replaces (or inserts) a whole document by `_id`. With a `fence` (the writer's lease) the write is
   * refused (`MONGO_FENCED`) once a newer holder exists, and the document records the token (`fence`).
   */
  async putById<T extends { _id: string; tenantId: string }>(
    name: string,
    doc: T,
    fence?: Fence,
  ): Promise<void> {
    this.assertTenant(doc.tenantId, doc._id);
    const stamped = fence === undefined ? doc : { ...doc, fence: fence.token };
    await this.fenced(fence, () =>
      withMongoErrors({ operation: 'replaceOne', collection: name }, () =>
        this.raw<Document>(name).replaceOne({ _id: doc._id as never }, stamped, { upsert: true }),
      ),
    );
  }

  /** `$set` on one document by `_id` (fenced like {@link putById} when a `fence` is given). */
  async setById(name: string, tenantId: string, id: string, set: Document, fence?: Fence): Promise<void> {
    this.assertTenant(tenantId, id);
    if ('tenantId' in set) throw MongoErrors.MONGO_TENANT_MISMATCH({ collection: name });
    const stamped = fence === undefined ? set : { ...set, fence: fence.token };
    await this.fenced(fence, () =>
      withMongoErrors({ operation: 'updateOne', collection: name }, () =>
        this.raw<Document>(name).updateOne({ _id: id as never }, { $set: stamped }),
      ),
    );
  }

  /**
   * Inserts documents; ones already present (same `_id`) are left as they are (fenced like
   * {@link putById} when a `fence` is given).
   */
  async insertAll<T extends { _id: string; tenantId: string }>(
    name: string,
    docs: readonly T[],
    fence?: Fence,
  ): Promise<void> {
    if (docs.length === 0) return;
    for (const d of docs) this.assertTenant(d.tenantId, d._id);
    if (fence !== undefined) {
      const stamped = docs.map((d) => ({ ...d, fence: fence.token }));
      return fencedWrite(fence, () => this.insertAll(name, stamped));
    }
    try {
      await this.raw<Document>(name).insertMany(docs as unknown as Document[], { ordered: false });
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw toMongoError(err, { operation: 'insertMany', collection: name });
      // FerretDB may stop an unordered batch at the first duplicate: insert the rest one by one.
      for (const d of docs) {
        try {
          await this.raw<Document>(name).insertOne(d as unknown as Document);
        } catch (e) {
          if (!isDuplicateKeyError(e)) throw toMongoError(e, { operation: 'insertOne', collection: name });
        }
      }
    }
  }

  /** {@link insertAll} for the collections whose bulky field is stored packed. */
  async insertPacked<T extends { _id: string; tenantId: string }>(
    name: PackedCollection,
    docs: readonly T[],
    fence?: Fence,
  ): Promise<void> {
    await this.insertAll(
      name,
      docs.map((d) => packDoc(name, d) as T),
      fence,
    );
  }

  /** A document of a packed collection by `_id`, unpacked. */
  private async packedById<T extends { tenantId: string }>(
    name: PackedCollection,
    tenantId: string,
    id: string,
  ): Promise<T | null> {
    const stored = await this.byId<T>(name, tenantId, id);
    return stored === null ? null : unpackDoc<T>(name, stored as unknown as Document);
  }

  async deleteById(name: string, tenantId: string, id: string, fence?: Fence): Promise<void> {
    this.assertTenant(tenantId, id);
    await this.fenced(fence, () =>
      withMongoErrors({ operation: 'deleteOne', collection: name }, () =>
        this.raw<Document>(name).deleteOne({ _id: id as never }),
      ),
    );
  }

  heldBatches = (t: string): TenantCollection<HeldBatchDoc> =>
    tenantCollection<HeldBatchDoc>(this.db, COLLECTIONS.heldBatches, t);
  rawChunks = (t: string): TenantCollection<RawChunkDoc> =>
    tenantCollection<RawChunkDoc>(this.db, COLLECTIONS.rawChunks, t);
  chunkReceipts = (t: string): TenantCollection<ChunkReceiptDoc> =>
    tenantCollection<ChunkReceiptDoc>(this.db, COLLECTIONS.chunkReceipts, t);
  changeChunks = (t: string): TenantCollection<ChangeChunkDoc> =>
    tenantCollection<ChangeChunkDoc>(this.db, COLLECTIONS.changeChunks, t);

  /**
   * Stages a chunk and its receipt; a redelivered chunk changes nothing but its receipt's time
   * (false: it was staged already).
   */
  async stageChunk(doc: RawChunkDoc): Promise<boolean> {
    this.assertTenant(doc.tenantId, doc._id);
    let stored = true;
    try {
      await this.raw<Document>(COLLECTIONS.rawChunks).insertOne(
        packDoc(COLLECTIONS.rawChunks, doc) as Document,
      );
    } catch (err) {
      if (!isDuplicateKeyError(err))
        throw toMongoError(err, { operation: 'insertOne', collection: COLLECTIONS.rawChunks });
      stored = false;
    }
    // The receipt after the chunk: a receipt always means its chunk is there.
    const receipt: ChunkReceiptDoc = {
      _id: doc._id,
      tenantId: doc.tenantId,
      syncRunId: doc.syncRunId,
      datasetId: doc.datasetId,
      fingerprint: doc.fingerprint,
      chunkIndex: doc.chunkIndex,
      receivedAt: doc.receivedAt,
    };
    // Delivered again (a consumer that restarted, a re-send): the receipt takes the new time, so the
    // sweep of abandoned chunks counts from the last delivery.
    if (stored) await this.insertAll<ChunkReceiptDoc>(COLLECTIONS.chunkReceipts, [receipt]);
    else await this.putById<ChunkReceiptDoc>(COLLECTIONS.chunkReceipts, receipt);
    return stored;
  }

  /** Which chunk indexes of a run are staged, per dataset and fingerprint (receipts without one are not counted). */
  async stagedChunks(tenantId: string, syncRunId: string): Promise<StagedChunks> {
    const rows = await this.chunkReceipts(tenantId).find({ syncRunId });
    const out = new Map<DatasetId, Map<string, Set<number>>>();
    for (const r of rows)
      if (r.fingerprint !== undefined) addStaged(out, { ...r, fingerprint: r.fingerprint });
    return out;
  }

  async loadChunk(
    tenantId: string,
    syncRunId: string,
    datasetId: DatasetId,
    fingerprint: string,
    chunkIndex: number,
  ): Promise<RawChunkDoc | null> {
    return this.packedById<RawChunkDoc>(
      COLLECTIONS.rawChunks,
      tenantId,
      ids.chunk(tenantId, syncRunId, datasetId, fingerprint, chunkIndex),
    );
  }

  /** Drops a finished run's raw chunks (they hold personal data and are no longer needed). */
  async dropChunks(tenantId: string, syncRunId: string, fence?: Fence): Promise<void> {
    await this.fenced(fence, async () => {
      await this.rawChunks(tenantId).deleteMany({ syncRunId });
      await this.chunkReceipts(tenantId).deleteMany({ syncRunId });
    });
  }

  /**
   * Runs of any school with a receipt staged before `before`, or with a receipt that has no time
   * (staged before receipts recorded it: `null` matches the missing field, on the same index), from
   * at most `limit` receipts, leaving out `skipRunIds`. Two simple filters rather than an `$or`
   * (FerretDB 1.24 pushes down only simple ones).
   */
  async runsStagedBefore(
    before: Date,
    limit: number,
    skipRunIds: readonly string[] = [],
  ): Promise<{ tenantId: string; syncRunId: string }[]> {
    const skip = skipRunIds.length === 0 ? {} : { syncRunId: { $nin: [...skipRunIds] } };
    const read = (filter: Document, n: number) =>
      withMongoErrors({ operation: 'find', collection: COLLECTIONS.chunkReceipts }, () =>
        this.raw<ChunkReceiptDoc>(COLLECTIONS.chunkReceipts)
          .find({ ...filter, ...skip }, { projection: { tenantId: 1, syncRunId: 1 }, limit: n })
          .toArray(),
      );
    const rows = await read({ receivedAt: { $lt: before } }, limit);
    if (rows.length < limit) rows.push(...(await read({ receivedAt: null }, limit - rows.length)));
    const runs = new Map<string, { tenantId: string; syncRunId: string }>();
    for (const r of rows)
      runs.set(`${r.tenantId}|${r.syncRunId}`, { tenantId: r.tenantId, syncRunId: r.syncRunId });
    return [...runs.values()];
  }

  /**
   * The newest receipt time of a run (on `tenant_run`); receipts without one are dated by their
   * run's chunks, and as the epoch when no chunk has a time either (a drop cut off between its two
   * deletes). Null when the run has no receipt.
   */
  async newestChunkAt(tenantId: string, syncRunId: string): Promise<Date | null> {
    const receipts = await this.chunkReceipts(tenantId).find(
      { syncRunId },
      { projection: { receivedAt: 1 } },
    );
    if (receipts.length === 0) return null;
    let newest = 0;
    for (const r of receipts)
      if (r.receivedAt instanceof Date) newest = Math.max(newest, r.receivedAt.getTime());
    if (receipts.some((r) => !(r.receivedAt instanceof Date)))
      for (const c of await this.rawChunks(tenantId).find({ syncRunId }, { projection: { receivedAt: 1 } }))
        if (c.receivedAt instanceof Date) newest = Math.max(newest, c.receivedAt.getTime());
    return new Date(newest);
  }

  /**
   * Inserts a changeset if absent; returns the stored one either way. Its entry in `openChangesets`
   * (the sweeper's small work list) is written first, so a crash in between leaves an entry without
   * a changeset (dropped by {@link unfinishedChangesets} once old), never an unlisted changeset.
   */
  async createChangeset(created: ChangesetDoc, fence?: Fence): Promise<ChangesetDoc> {
    // The active trace context (tracing on) is kept with the changeset for its steps' spans.
    const trace = created.trace ?? traceCarrierOf();
    const doc = trace.traceparent === undefined ? created : { ...created, trace };
    await this.insertAll<OpenChangesetDoc>(
      COLLECTIONS.openChangesets,
      [{ _id: doc._id, tenantId: doc.tenantId, receivedAt: doc.receivedAt }],
      fence,
    );
    await this.insertAll(COLLECTIONS.changesets, [doc], fence);
    return (await this.getChangeset(doc.tenantId, doc._id))!;
  }

  /** Removes a finished changeset from `openChangesets`. */
  closeChangeset(tenantId: string, id: string, fence?: Fence): Promise<void> {
    return this.deleteById(COLLECTIONS.openChangesets, tenantId, id, fence);
  }

  private steps(): Collection<StepClaimDocument<Partial<ChangesetDoc>>> {
    return this.raw<StepClaimDocument<Partial<ChangesetDoc>>>(COLLECTIONS.changesetSteps);
  }

  /**
   * A changeset as its decided steps say: the stored document, rolled forward through any step
   * claims it is behind (a holder stopped between deciding a step and recording it). `behind` is what
   * the stored document lacks (null when it is up to date); only a lease holder writes it back
   * (see {@link updateChangeset}). One more read by `_id` for an unfinished changeset.
   */
  async loadChangeset(
    tenantId: string,
    id: string,
  ): Promise<{ doc: ChangesetDoc; behind: Partial<ChangesetDoc> | null } | null> {
    const stored = await this.byId<ChangesetDoc>(COLLECTIONS.changesets, tenantId, id);
    if (stored === null) return null;
    return rollChangesetForward(
      stored,
      async (state) => (await readStepClaim(this.steps(), id, state))?.patch ?? null,
    );
  }

  /** A changeset as its decided steps say (see {@link loadChangeset}), or null. */
  async getChangeset(tenantId: string, id: string): Promise<ChangesetDoc | null> {
    return (await this.loadChangeset(tenantId, id))?.doc ?? null;
  }

  /**
   * Decides the step out of the changeset's current state (`cs.state`) by a step claim under the
   * holder's fence: exactly one outcome per step on every backend; a stale holder is refused
   * (`MONGO_FENCED`). Returns the decided patch — this holder's, or the one decided earlier by a
   * holder that stopped before recording it (adopt it).
   */
  async decideStep(
    cs: ChangesetDoc,
    patch: Partial<ChangesetDoc>,
    fence: Fence,
  ): Promise<{ won: boolean; patch: Partial<ChangesetDoc> }> {
    const { won, claim } = await claimStep(this.steps(), { recordId: cs._id, step: cs.state, patch, fence });
    return { won, patch: claim.patch };
  }

  updateChangeset(tenantId: string, id: string, set: Partial<ChangesetDoc>, fence?: Fence): Promise<void> {
    return this.setById(COLLECTIONS.changesets, tenantId, id, set, fence);
  }

  /** Forgets the decided steps of a pruned changeset. */
  dropChangesetSteps(changesetId: string): Promise<void> {
    return deleteStepClaims(
      this.steps() as unknown as Collection<StepClaimDocument>,
      RUN_STATES.map((step) => ({ recordId: changesetId, step })),
    );
  }

  /**
   * Changesets of any tenant not finished, oldest first. Normally read through `openChangesets`
   * (one small entry per unfinished changeset, each changeset then read by `_id`): on FerretDB a
   * filter on `changesets` scans every run ever processed (1.3 s for 126 runs under load), and the
   * sweeper asks every minute. `rebuild` (on start) scans `changesets` once instead and re-lists any
   * unfinished changeset missing from `openChangesets`.
   */
  async unfinishedChangesets(opts: { rebuild?: boolean } = {}): Promise<ChangesetDoc[]> {
    if (opts.rebuild) {
      const all = await withMongoErrors({ operation: 'find', collection: COLLECTIONS.changesets }, () =>
        this.raw<ChangesetDoc>(COLLECTIONS.changesets)
          .find({ state: { $in: ['waiting', 'staged', 'diffed', 'applying', 'publishing', 'reporting'] } })
          .sort({ receivedAt: 1 })
          .toArray(),
      );
      for (const cs of all)
        await this.insertAll<OpenChangesetDoc>(COLLECTIONS.openChangesets, [
          { _id: cs._id, tenantId: cs.tenantId, receivedAt: cs.receivedAt },
        ]);
      return all;
    }
    const open = await withMongoErrors({ operation: 'find', collection: COLLECTIONS.openChangesets }, () =>
      this.raw<OpenChangesetDoc>(COLLECTIONS.openChangesets).find({}).toArray(),
    );
    const out: ChangesetDoc[] = [];
    const staleBefore = Date.now() - 10 * 60_000;
    for (const o of open) {
      const loaded = await this.loadChangeset(o.tenantId, o._id);
      const cs = loaded?.doc ?? null;
      const finished = cs !== null && (cs.state === 'done' || cs.state === 'failed');
      // An entry whose changeset never got written (crash in createChangeset) is dropped once old.
      // A changeset finished by its steps but not yet recorded so stays listed for a lease holder.
      if (
        (finished && loaded?.behind === null) ||
        (cs === null && new Date(o.receivedAt).getTime() < staleBefore)
      )
        await this.closeChangeset(o.tenantId, o._id);
      else if (cs !== null) out.push(cs);
    }
    return out.sort((a, b) => a.receivedAt.getTime() - b.receivedAt.getTime());
  }

  async changeChunk(tenantId: string, changesetId: string, chunkNo: number): Promise<ChangeChunkDoc | null> {
    return this.packedById<ChangeChunkDoc>(
      COLLECTIONS.changeChunks,
      tenantId,
      ids.changeChunk(changesetId, chunkNo),
    );
  }

  /** Change chunks per `insertMany` (they are large: up to CHANGE_CHUNK_SIZE images each). */
  private static readonly CHUNKS_PER_INSERT = 20;

  async saveChanges(
    tenantId: string,
    changesetId: string,
    changes: readonly StoredChange[],
    fence: Fence,
  ): Promise<void> {
    const chunks = changeChunkDocs(tenantId, changesetId, changes);
    for (let i = 0; i < chunks.length; i += RosterStore.CHUNKS_PER_INSERT)
      await this.insertPacked(
        COLLECTIONS.changeChunks,
        chunks.slice(i, i + RosterStore.CHUNKS_PER_INSERT),
        fence,
      );
  }

  /** Checked against the fence first (a stale holder deletes nothing); one `deleteMany`. */
  async dropChanges(tenantId: string, changesetId: string, fence?: Fence): Promise<void> {
    await fence?.check();
    await this.changeChunks(tenantId).deleteMany({ changesetId });
  }

  async saveFindings(
    tenantId: string,
    syncRunId: string,
    findings: readonly RosterFinding[],
    fence: Fence,
  ): Promise<void> {
    await this.insertPacked(
      COLLECTIONS.findingChunks,
      findingChunkDocs(tenantId, syncRunId, findings),
      fence,
    );
  }

  async findingChunk(tenantId: string, syncRunId: string, chunkNo: number): Promise<FindingChunkDoc | null> {
    return this.packedById<FindingChunkDoc>(
      COLLECTIONS.findingChunks,
      tenantId,
      ids.findingChunk(tenantId, syncRunId, chunkNo),
    );
  }

  private entityColl = (t: string): TenantCollection<EntityDoc> =>
    tenantCollection<EntityDoc>(this.db, COLLECTIONS.entities, t);

  /**
   * The school's manifest: per type, every stored entity's image hash and status (one query on
   * `tenant_type_chunk`, a few packed documents per type; a chunk split in parts is merged,
   * `mergeParts`). The levels its chunks are stored at are kept beside the returned object for
   * `updateManifest`.
   */
  async loadManifest(tenantId: string): Promise<Manifest> {
    const { manifest, levels } = await this.readManifestParts(tenantId);
    this.manifestLevels.set(manifest, levels);
    return manifest;
  }

  /** Per manifest returned by `loadManifest`: the level each of its chunks is stored at (`<type>|<chunk>`). */
  private readonly manifestLevels = new WeakMap<Manifest, Map<string, number>>();

  /** The school's manifest chunks (of one type, or all), merged per chunk, with each chunk's stored level. */
  private async readManifestParts(
    tenantId: string,
    entityType?: RosterEntityType,
  ): Promise<{ manifest: Manifest; levels: Map<string, number> }> {
    const stored = await tenantCollection<Document & { tenantId: string }>(
      this.db,
      COLLECTIONS.entityManifests,
      tenantId,
    ).find(entityType === undefined ? {} : { entityType });
    const byChunk = new Map<string, { entityType: RosterEntityType; docs: ManifestChunkDoc[] }>();
    for (const raw of stored) {
      const doc = unpackDoc<ManifestChunkDoc>(COLLECTIONS.entityManifests, raw);
      const key = `${doc.entityType}|${partOfStored(doc.chunk).chunk}`;
      const group = byChunk.get(key) ?? { entityType: doc.entityType, docs: [] };
      group.docs.push(doc);
      byChunk.set(key, group);
    }
    const manifest: Manifest = {};
    const levels = new Map<string, number>();
    for (const [key, group] of byChunk) {
      mergeParts(group.docs, (manifest[group.entityType] ??= new Map<string, ManifestEntry>()));
      levels.set(key, Math.max(...group.docs.map((d) => d.level ?? 0)));
    }
    return { manifest, levels };
  }

  /**
   * Updates the manifest chunks the given entries fall in: each touched chunk is rewritten whole
   * (from `current`, the school's manifest as `loadManifest` just read it, or else read by type),
   * untouched ones are left alone; all of them under one check of `fence` either side, each recording
   * its token and none replacing a document a newer holder wrote (`replaceEach`). A chunk whose packed
   * entries would pass MANIFEST_PART_MAX_BYTES is written in parts (`layoutChunk`), in the order
   * that loses no entry when a crash cuts the write short (`writeWaves`). A stale holder can still
   * land parts no one wrote yet; the reader ranks every part by its token first (`mergeParts`).
   * Idempotent: writing the same entries again gives the same chunks.
   */
  async updateManifest(
    tenantId: string,
    updates: ReadonlyArray<{ entityType: RosterEntityType; entry: ManifestEntry }>,
    fence?: Fence,
    current?: Manifest,
  ): Promise<void> {
    const byChunk = new Map<
      string,
      { entityType: RosterEntityType; chunk: number; entries: ManifestEntry[] }
    >();
    for (const u of updates) {
      const chunk = chunkOf(u.entry.id);
      const key = `${u.entityType}|${chunk}`;
      const group = byChunk.get(key) ?? { entityType: u.entityType, chunk, entries: [] };
      group.entries.push(u.entry);
      byChunk.set(key, group);
    }
    const known = current === undefined ? undefined : this.manifestLevels.get(current);
    const read = new Map<RosterEntityType, Promise<{ manifest: Manifest; levels: Map<string, number> }>>();
    const priorOf = (entityType: RosterEntityType) => {
      if (current !== undefined && known !== undefined) return { manifest: current, levels: known };
      const pending = read.get(entityType) ?? this.readManifestParts(tenantId, entityType);
      read.set(entityType, pending);
      return pending;
    };
    const parts: Array<{ part: number; doc: Document }> = [];
    await forEachConcurrently([...byChunk], REPLACES_IN_FLIGHT, async ([key, group]) => {
      const prior = await priorOf(group.entityType);
      const entries = new Map<string, ManifestEntry>();
      for (const e of prior.manifest[group.entityType]?.values() ?? [])
        if (chunkOf(e.id) === group.chunk) entries.set(e.id, e);
      for (const e of group.entries) entries.set(e.id, e);
      const sorted = [...entries.values()].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
      for (const p of layoutChunk(sorted, prior.levels.get(key) ?? 0)) {
        const _id = ids.manifest(tenantId, group.entityType, storedChunkOf(group.chunk, p.part));
        this.assertTenant(tenantId, _id);
        const doc: Document = {
          _id,
          tenantId,
          entityType: group.entityType,
          chunk: storedChunkOf(group.chunk, p.part),
          ...(p.level === 0 ? {} : { level: p.level, part: p.part }),
          packed: p.packed,
        };
        parts.push({ part: p.part, doc: fence === undefined ? doc : { ...doc, fence: fence.token } });
      }
    });
    // Every touched chunk under one fence check either side (a fenced replace each was three round
    // trips a chunk: ~120 ms of a 1 % churn's 13 chunks); the parts of split chunks band by band.
    await this.fenced(fence, async () => {
      for (const wave of writeWaves(parts))
        await this.replaceEach(
          COLLECTIONS.entityManifests,
          wave.map((p) => p.doc),
          fence,
        );
    });
  }

  /**
   * Replaces documents by `_id` (upserts), UPDATE_CHUNK a command, REPLACES_IN_FLIGHT commands at
   * once. With a `fence` (the caller stamps its token and runs this under `fenced`) each replace is
   * conditional on it: a document a newer holder wrote is not replaced — the upsert then collides on
   * `_id` and the write is refused as fenced; atomic on MongoDB, evaluated when the command arrives
   * on FerretDB, so it also stops a holder that stalled between its check and its write.
   */
  private async replaceEach(
    name: string,
    docs: readonly Document[],
    fence: Fence | undefined,
  ): Promise<void> {
    const coll = this.raw<Document>(name);
    const filterOf = (d: Document): Document =>
      fence === undefined ? { _id: d._id } : { _id: d._id, ...fenceCondition(fence) };
    const commands: Document[][] = [];
    for (let i = 0; i < docs.length; i += UPDATE_CHUNK) commands.push(docs.slice(i, i + UPDATE_CHUNK));
    await forEachConcurrently(commands, REPLACES_IN_FLIGHT, async (part) => {
      const ops = part.map((d) => ({ replaceOne: { filter: filterOf(d), replacement: d, upsert: true } }));
      try {
        await coll.bulkWrite(ops, { ordered: false });
      } catch (err) {
        if (fence !== undefined && isDuplicateKeyError(err))
          throw MongoErrors.MONGO_FENCED({ key: fence.key, token: fence.token }, { cause: err });
        throw toMongoError(err, { operation: 'bulkWrite', collection: name });
      }
    });
  }

  /**
   * Writes entity documents (each replaces the stored one of its `_id`). `fresh` ones (not in the
   * manifest) are inserted ENTITY_WRITE_CHUNK at a time; one already present (a crash between a
   * run's entity and manifest writes) is replaced instead. The others are replaced
   * (`replaceOne` upserts, UPDATE_CHUNK per command: FerretDB 1.24 stops answering on a bulk write
   * of ~200 statements). Fenced per group of commands; every document records the token.
   */
  async putEntities(
    docs: readonly EntityDoc[],
    fresh: (doc: EntityDoc) => boolean,
    fence?: Fence,
  ): Promise<void> {
    for (const d of docs) this.assertTenant(d.tenantId, d._id);
    const stamped = fence === undefined ? docs : docs.map((d) => ({ ...d, fence: fence.token }));
    const coll = this.raw<Document>(COLLECTIONS.entities);
    // Conditional on the fence (`replaceEach`): a document a newer holder wrote is not replaced.
    const replace = (list: readonly Document[]): Promise<void> =>
      this.replaceEach(COLLECTIONS.entities, list, fence);
    const inserts = stamped.filter((d) => fresh(d));
    const replaces = stamped.filter((d) => !fresh(d));
    const group = ENTITY_WRITE_CHUNK * 10;
    for (let g = 0; g < inserts.length; g += group)
      await this.fenced(fence, async () => {
        const part = inserts.slice(g, g + group) as unknown as Document[];
        const commands: Document[][] = [];
        for (let i = 0; i < part.length; i += ENTITY_WRITE_CHUNK)
          commands.push(part.slice(i, i + ENTITY_WRITE_CHUNK));
        // Several commands in flight: the database inserts them side by side (FerretDB/PostgreSQL
        // and MongoDB both), a third less time for a first sync's inserts than one at a time (medium school, FerretDB/PostgreSQL).
        await forEachConcurrently(commands, INSERTS_IN_FLIGHT, async (chunk) => {
          try {
            await coll.insertMany(chunk, { ordered: false });
          } catch (err) {
            if (!isDuplicateKeyError(err))
              throw toMongoError(err, { operation: 'insertMany', collection: COLLECTIONS.entities });
            await replace(chunk);
          }
        });
      });
    for (let g = 0; g < replaces.length; g += group)
      await this.fenced(fence, () => replace(replaces.slice(g, g + group) as unknown as Document[]));
  }

  /**
   * Entity documents by id (the images a resync needs: changed, removed, kept fields): a few by
   * `_id` (POINT_READS_UP_TO, some in flight at once), more by `$in` queries of IDS_PER_QUERY ids on
   * `tenant_type_id`, or the whole type in one query when that many are wanted (FerretDB decodes
   * every document of the type for an `$in`, so one such query beats several).
   */
  async entityDocs(
    tenantId: string,
    entityType: RosterEntityType,
    entityIds: Iterable<string>,
  ): Promise<Map<string, EntityDoc>> {
    const wanted = [...new Set(entityIds)];
    const out = new Map<string, EntityDoc>();
    if (wanted.length === 0) return out;
    if (wanted.length <= POINT_READS_UP_TO) {
      await forEachConcurrently(wanted, POINT_READS_IN_FLIGHT, async (entityId) => {
        const d = await this.entityColl(tenantId).findOne({
          _id: ids.entity(tenantId, entityType, entityId),
        });
        if (d !== null) out.set(entityId, d);
      });
      return out;
    }
    if (wanted.length > WHOLE_TYPE_FROM) {
      const want = new Set(wanted);
      for await (const d of this.entityColl(tenantId).iterate({ entityType }))
        if (want.has(d.entityId)) out.set(d.entityId, d);
      return out;
    }
    for (let i = 0; i < wanted.length; i += IDS_PER_QUERY)
      for (const d of await this.entityColl(tenantId).find({
        entityType,
        entityId: { $in: wanted.slice(i, i + IDS_PER_QUERY) },
      }))
        out.set(d.entityId, d);
    return out;
  }

  /** Every entity of a school (optionally of one type and status), by index; unordered. */
  async listEntityDocs(
    tenantId: string,
    entityType?: RosterEntityType,
    status?: EntityDoc['status'],
  ): Promise<EntityDoc[]> {
    return this.entityColl(tenantId).find({
      ...(entityType === undefined ? {} : { entityType }),
      ...(status === undefined ? {} : { status }),
    });
  }

  /** One entity, or null (by `_id`). */
  async entity(
    tenantId: string,
    entityType: RosterEntityType,
    entityId: string,
  ): Promise<EntityRecord | null> {
    const d = await this.byId<EntityDoc>(
      COLLECTIONS.entities,
      tenantId,
      ids.entity(tenantId, entityType, entityId),
    );
    return d === null ? null : toRecord(d);
  }

  /**
   * The whole stored roster of a tenant, images included (tests, tools). The processor reads the
   * manifest and only the images it needs instead (`loadManifest`, `entityDocs`).
   */
  async loadStored(
    tenantId: string,
  ): Promise<{ stored: StoredByType; activeCounts: Partial<Record<RosterEntityType, number>> }> {
    const stored: StoredByType = {};
    const activeCounts: Partial<Record<RosterEntityType, number>> = {};
    for (const e of await this.listEntityDocs(tenantId)) {
      const m = (stored[e.entityType] ??= new Map<string, StoredEntity>());
      m.set(e.entityId, {
        entityType: e.entityType,
        id: e.entityId,
        status: e.status,
        data: e.image,
        purged: e.purged,
      });
      if (e.status === 'active') activeCounts[e.entityType] = (activeCounts[e.entityType] ?? 0) + 1;
    }
    return { stored, activeCounts };
  }

  /** Schools whose roster is still in the legacy `entityBuckets` (on start only: a scan of that collection). */
  async legacyBucketTenants(): Promise<string[]> {
    const tenants = await withMongoErrors(
      { operation: 'distinct', collection: COLLECTIONS.entityBuckets },
      () => this.raw<EntityBucketDoc>(COLLECTIONS.entityBuckets).distinct('tenantId'),
    );
    return tenants.filter((t): t is string => typeof t === 'string').sort();
  }

  /**
   * Converts one school's legacy buckets (read by their known `_id`s) into entity documents and
   * manifest entries, then deletes each bucket. Idempotent and crash-safe: a bucket is deleted only
   * after its entities and manifest entries are written, and writing them again gives the same
   * documents. Returns how many entities were converted.
   */
  async migrateTenantBuckets(tenantId: string, fence?: Fence): Promise<number> {
    let converted = 0;
    for (const entityType of ROSTER_ENTITY_TYPES)
      for (let n = 0; n < MANIFEST_CHUNKS; n += 1) {
        const id = ids.bucket(tenantId, entityType, n);
        const bucket = await this.packedById<EntityBucketDoc>(COLLECTIONS.entityBuckets, tenantId, id);
        if (bucket === null) continue;
        const docs = bucket.entities.map((e) => entityDocOf(tenantId, e));
        await this.putEntities(docs, () => true, fence);
        await this.updateManifest(tenantId, docs.map(manifestEntryOf), fence);
        await this.deleteById(COLLECTIONS.entityBuckets, tenantId, id, fence);
        converted += docs.length;
      }
    return converted;
  }

  async thresholds(tenantId: string): Promise<RemovalThresholds | undefined> {
    return (await this.byId<SettingsDoc>(COLLECTIONS.settings, tenantId, `${tenantId}|settings`))?.thresholds;
  }

  async setThresholds(
    tenantId: string,
    thresholds: RemovalThresholds,
    updatedBy: string | undefined,
    now: Date,
  ): Promise<void> {
    await this.putById<SettingsDoc>(COLLECTIONS.settings, {
      _id: `${tenantId}|settings`,
      tenantId,
      thresholds,
      updatedAt: now,
      ...(updatedBy === undefined ? {} : { updatedBy }),
    });
  }

  /**
   * The school's next changeset number (1, 2, …; `<tenant>|changesets` in `settings`): taken when a
   * changeset starts applying, so numbers follow the order in which a school's changesets are
   * applied. A number taken by a holder that crashed before recording it is skipped (gaps are fine).
   */
  async nextChangesetNumber(tenantId: string, fence: Fence, applying?: SyncApplying): Promise<number> {
    const id = `${tenantId}|changesets`;
    this.assertTenant(tenantId, id);
    const newest = {
      ...(applying?.syncFetchedAt ? { lastSyncFetchedAt: applying.syncFetchedAt } : {}),
      ...(applying?.syncFetchSequence === undefined
        ? {}
        : { lastSyncFetchSequence: applying.syncFetchSequence }),
    };
    const update: Document = {
      $inc: { lastChangesetNumber: 1 },
      $set: { tenantId, fence: fence.token, ...(applying ? { applying: applying.changesetId } : {}) },
      ...(Object.keys(newest).length > 0 ? { $max: newest } : {}),
    };
    const doc = await this.fenced(fence, () =>
      withMongoErrors({ operation: 'findOneAndUpdate', collection: COLLECTIONS.settings }, () =>
        this.raw<Document>(COLLECTIONS.settings).findOneAndUpdate({ _id: id as never }, update, {
          upsert: true,
          returnDocument: 'after',
        }),
      ),
    );
    return Number((doc as { lastChangesetNumber?: unknown } | null)?.lastChangesetNumber);
  }

  async changesetOrder(tenantId: string): Promise<ChangesetOrder> {
    const id = `${tenantId}|changesets`;
    this.assertTenant(tenantId, id);
    const doc = await withMongoErrors({ operation: 'findOne', collection: COLLECTIONS.settings }, () =>
      this.raw<Document>(COLLECTIONS.settings).findOne({ _id: id as never }),
    );
    const { applying, lastSyncFetchedAt, lastSyncFetchSequence } = (doc ?? {}) as {
      applying?: unknown;
      lastSyncFetchedAt?: unknown;
      lastSyncFetchSequence?: unknown;
    };
    return {
      ...(typeof applying === 'string' ? { applying } : {}),
      ...(lastSyncFetchedAt instanceof Date ? { lastSyncFetchedAt } : {}),
      ...(typeof lastSyncFetchSequence === 'number' ? { lastSyncFetchSequence } : {}),
    };
  }

  /** The school's pending held batch (the newest, should a store from before single batches hold several). */
  async pendingBatch(tenantId: string): Promise<HeldBatchDoc | null> {
    const pending = await this.heldBatches(tenantId).find({ status: 'pending' }, { sort: { createdAt: -1 } });
    return pending[0] ?? null;
  }

  /**
   * Pending held batches of all schools: how many, and when the oldest was held — for the
   * `roster_held_batches` metrics only (no school id or content leaves this method).
   */
  async pendingBatchStats(): Promise<{ count: number; oldestCreatedAt: Date | null }> {
    const pending = this.raw<HeldBatchDoc>(COLLECTIONS.heldBatches);
    const count = await pending.countDocuments({ status: 'pending' });
    const oldest = await pending
      .find({ status: 'pending' }, { sort: { createdAt: 1 }, limit: 1, projection: { createdAt: 1 } })
      .toArray();
    return { count, oldestCreatedAt: oldest[0]?.createdAt ?? null };
  }

  /** Approved batches of every school decided at or after `since`, oldest decision first. */
  async approvedBatchesSince(since: Date, limit: number): Promise<HeldBatchDoc[]> {
    return this.raw<HeldBatchDoc>(COLLECTIONS.heldBatches)
      .find({ status: 'approved', decidedAt: { $gte: since } }, { sort: { decidedAt: 1 }, limit })
      .toArray();
  }

  /** Discarded and superseded batches of every school decided at or after `since` whose report is owed, oldest decision first. */
  async decisionsToReport(since: Date, limit: number): Promise<HeldBatchDoc[]> {
    return this.raw<HeldBatchDoc>(COLLECTIONS.heldBatches)
      .find(
        {
          status: { $in: ['discarded', 'superseded'] },
          decidedAt: { $gte: since },
          decisionReportedAt: { $exists: false },
        },
        { sort: { decidedAt: 1 }, limit },
      )
      .toArray();
  }

  async decisionReported(batch: HeldBatchDoc, at: Date, fence: Fence): Promise<void> {
    await this.setById(COLLECTIONS.heldBatches, batch.tenantId, batch._id, { decisionReportedAt: at }, fence);
  }

  /** The held changes of a batch's current version, in order. */
  heldItems(batch: HeldBatchDoc): Promise<StoredChange[]> {
    return readHeldItems(batch, this);
  }

  /** The discarded changes that still hold for the school. */
  async discarded(tenantId: string): Promise<DiscardedChange[]> {
    return (
      (await this.byId<DiscardedChangesDoc>(COLLECTIONS.discardedChanges, tenantId, ids.discarded(tenantId)))
        ?.entries ?? []
    );
  }

  async putDiscarded(tenantId: string, entries: DiscardedChange[], now: Date, fence: Fence): Promise<void> {
    await this.putById<DiscardedChangesDoc>(
      COLLECTIONS.discardedChanges,
      { _id: ids.discarded(tenantId), tenantId, entries, updatedAt: now },
      fence,
    );
  }

  async listHeldBatches(tenantId: string, status?: HeldBatchDoc['status']): Promise<HeldBatchDoc[]> {
    return this.heldBatches(tenantId).find(status ? { status } : {}, { sort: { createdAt: -1 } });
  }

  async heldBatch(tenantId: string, batchId: string): Promise<HeldBatchDoc | null> {
    return this.byId<HeldBatchDoc>(COLLECTIONS.heldBatches, tenantId, ids.heldBatch(tenantId, batchId));
  }

  async openHeldBatch(batch: HeldBatchDoc, fence: Fence): Promise<void> {
    await this.insertAll(COLLECTIONS.heldBatches, [batch], fence);
  }

  async reviseHeldBatch(batch: HeldBatchDoc, revision: HeldBatchRevision, fence: Fence): Promise<void> {
    await this.setById(COLLECTIONS.heldBatches, batch.tenantId, batch._id, revision, fence);
  }

  async supersedeHeldBatch(batch: HeldBatchDoc, at: Date, bySyncRunId: string, fence: Fence): Promise<void> {
    await this.setById(
      COLLECTIONS.heldBatches,
      batch.tenantId,
      batch._id,
      { status: 'superseded', decidedAt: at, lastSyncRunId: bySyncRunId, updatedAt: at },
      fence,
    );
  }

  async approveHeldBatch(
    batch: HeldBatchDoc,
    decision: BatchDecision & { approvalChangesetId: string },
    fence: Fence,
  ): Promise<void> {
    await this.setById(
      COLLECTIONS.heldBatches,
      batch.tenantId,
      batch._id,
      {
        status: 'approved',
        decidedAt: decision.decidedAt,
        comment: decision.comment,
        approvalChangesetId: decision.approvalChangesetId,
        ...(decision.decidedBy === undefined ? {} : { decidedBy: decision.decidedBy }),
      },
      fence,
    );
  }

  async discardHeldBatch(batch: HeldBatchDoc, decision: BatchDecision, fence: Fence): Promise<void> {
    await this.setById(
      COLLECTIONS.heldBatches,
      batch.tenantId,
      batch._id,
      {
        status: 'discarded',
        decidedAt: decision.decidedAt,
        comment: decision.comment,
        ...(decision.decidedBy === undefined ? {} : { decidedBy: decision.decidedBy }),
      },
      fence,
    );
  }

  async enterGrace(entries: readonly GraceDoc[], fence: Fence): Promise<void> {
    await this.insertAll(COLLECTIONS.graceQueue, entries, fence);
  }

  async leaveGrace(tenantId: string, graceId: string, fence: Fence): Promise<void> {
    await this.deleteById(COLLECTIONS.graceQueue, tenantId, graceId, fence);
  }

  /** A scan of `changesets` on FerretDB (the sweeper asks once an hour). */
  async finishedBefore(cutoff: Date, limit: number): Promise<ChangesetDoc[]> {
    return withMongoErrors({ operation: 'find', collection: COLLECTIONS.changesets }, () =>
      this.raw<ChangesetDoc>(COLLECTIONS.changesets)
        .find({ state: { $in: ['done', 'failed'] }, completedAt: { $lt: cutoff }, pruned: { $ne: true } })
        .limit(limit)
        .toArray(),
    );
  }

  async decidedBatchesBefore(cutoff: Date, limit: number): Promise<HeldBatchDoc[]> {
    return withMongoErrors({ operation: 'find', collection: COLLECTIONS.heldBatches }, () =>
      this.raw<HeldBatchDoc>(COLLECTIONS.heldBatches)
        .find({
          status: { $in: ['approved', 'discarded', 'superseded'] },
          decidedAt: { $lt: cutoff },
          itemsPrunedAt: { $exists: false },
        })
        .limit(limit)
        .toArray(),
    );
  }

  async pruneHeldItems(batch: HeldBatchDoc, at: Date): Promise<void> {
    // Items stored apart (every batch since versions); older batches' items are their run's changes,
    // pruned with its changeset.
    if (batch.itemsChangesetId !== undefined) await this.dropChanges(batch.tenantId, batch.itemsChangesetId);
    await this.setById(COLLECTIONS.heldBatches, batch.tenantId, batch._id, {
      itemChunkCount: 0,
      itemsPrunedAt: at,
    });
  }

  async pruneChangeset(cs: ChangesetDoc): Promise<void> {
    await this.dropChunks(cs.tenantId, cs.syncRunId);
    await this.dropChanges(cs.tenantId, cs._id);
    await this.setById(COLLECTIONS.changesets, cs.tenantId, cs._id, { pruned: true });
    // Finished long ago: its decided steps are no longer needed.
    await this.dropChangesetSteps(cs._id);
  }

  /** Removed people due for purge (all tenants, except `skipTenants`). */
  async graceDue(now: Date, limit: number, skipTenants: readonly string[] = []): Promise<GraceDoc[]> {
    return withMongoErrors({ operation: 'find', collection: COLLECTIONS.graceQueue }, () =>
      this.raw<GraceDoc>(COLLECTIONS.graceQueue)
        .find({
          graceUntil: { $lt: now },
          ...(skipTenants.length === 0 ? {} : { tenantId: { $nin: [...skipTenants] } }),
        })
        .limit(limit)
        .toArray(),
    );
  }
}
