import type { CloudEvent, RosterEntityType } from '@isams-sync/events';
import type { DatasetId } from '@isams-sync/isams';
import type { RemovalThresholds } from '../domain/guard';
import type { DiscardedChange } from '../domain/held-batch';
import type { RosterFinding } from '../domain/roster-model';
import type * as records from './records';

/**
 * What the roster's use-cases need from the outside, and nothing more: the store of changesets and
 * the stored roster, the per-school lease that makes one replica the writer, and the event
 * publisher. The MongoDB store and leases (adapters/mongo) and the Kafka publisher (adapters/kafka)
 * implement them; the unit tests run the same use-cases on in-memory ones (test/support/memory-roster.ts).
 */

/**
 * The lease generation a write is made under. Every write a use-case makes while holding a school
 * carries it; the store refuses it (the task then ends with `ROSTER_TENANT_LEASE_LOST`) once another
 * replica holds a newer generation.
 */
export interface WriteFence {
  /** The lease key (the tenant id). */
  readonly key: string;
  /** The generation; grows with every change of holder. */
  readonly token: number;
  /** Resolves while the token is the newest generation; throws once a newer one exists. */
  check(): Promise<void>;
}

/**
 * The lease a task holds while it runs. `fence` goes with every write the task makes; `assertHeld`
 * stops work at a step boundary once the lease is known to be lost.
 */
export interface HeldLease {
  readonly tenantId: string;
  /** The lease generation: the fencing token of this holder (grows on every change of holder). */
  readonly generation: number;
  readonly fence: WriteFence;
  /** True once a renewal found the lease taken over, or it expired without a successful renewal. */
  readonly lost: boolean;
  /** Throws `ROSTER_TENANT_LEASE_LOST` when {@link lost}. */
  assertHeld(): void;
}

/** Cross-replica exclusion per school: runs a task under the school's lease. */
export interface TenantLeasing {
  /**
   * Runs `fn` holding the tenant's lease. When another owner holds it, retries for up to `waitMs`
   * (0: one attempt) and then returns `{ ran: false }` without running `fn`. A refused write or a
   * lost lease inside `fn` rejects with `ROSTER_TENANT_LEASE_LOST`.
   */
  run<T>(
    tenantId: string,
    waitMs: number,
    fn: (lease: HeldLease) => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }>;
}

/** Where the roster's events go; every method resolves only once the broker acknowledged (acks=all). */
export interface RosterPublisher {
  /** Change events: the full ones on `roster.changes.v1`, the directory projections beside them. */
  publishChanges(events: readonly CloudEvent[], directory?: readonly CloudEvent[]): Promise<void>;
  /** State records, keyed `<tenantid>/<subject>` for compaction (full, then the directory projections). */
  publishState(events: readonly CloudEvent[], directory?: readonly CloudEvent[]): Promise<void>;
  /**
   * Tombstones (null value, key `<tenantid>/<entityType>/<entityId>`) on both state topics (the
   * directory one only for its entity types), so compaction forgets the entity's key.
   */
  publishStateTombstones(
    tombstones: readonly { tenantId: string; entityType: string; entityId: string }[],
  ): Promise<void>;
  publishRunUpdate(event: CloudEvent): Promise<void>;
}

/** What an approve or discard records on a pending held batch. */
export interface BatchDecision {
  decidedAt: Date;
  comment: string;
  decidedBy?: string;
}

/** A held batch's new items version (written after its change chunks: {@link ChangesetStore.saveChanges}). */
export type HeldBatchRevision = Pick<
  records.HeldBatchDoc,
  | 'version'
  | 'itemsChangesetId'
  | 'itemChunkCount'
  | 'itemsHash'
  | 'heldTypes'
  | 'countsByType'
  | 'total'
  | 'kind'
  | 'reason'
  | 'lastSyncRunId'
  | 'updatedAt'
>;

/** What a school's changesets are ordered by (read by `_id`; written as a changeset starts applying). */
export interface ChangesetOrder {
  /** The changeset that last started applying (it may have finished since). */
  applying?: string;
  /** The newest `fetchedAt` of a sync run (not a dry run) that started applying. */
  lastSyncFetchedAt?: Date;
  /** The highest marker `fetchSequence` of a sync run (not a dry run) that started applying. */
  lastSyncFetchSequence?: number;
}

/** The changeset that starts applying and, for a sync run, its fetch (moves {@link ChangesetOrder} on). */
export interface SyncApplying {
  changesetId: string;
  syncFetchedAt?: Date;
  syncFetchSequence?: number;
}

/**
 * The changesets and the stored roster, as the changeset processor and the admin actions use them.
 * Every write that takes a `fence` is refused once a newer lease generation exists; every write is
 * idempotent (deterministic ids; writing the same again changes nothing), which is what makes a
 * crash anywhere followed by a resume end in the same state.
 */
export interface ChangesetStore {
  // ---- changesets and their step claims --------------------------------------------------------

  /** Inserts a changeset if absent (listed as unfinished first); returns the stored one either way. */
  createChangeset(created: records.ChangesetDoc, fence?: WriteFence): Promise<records.ChangesetDoc>;
  /**
   * A changeset as its decided steps say: the stored record rolled forward through any step it is
   * behind (a holder stopped between deciding a step and recording it); `behind` is what the stored
   * record lacks (null when up to date).
   */
  loadChangeset(
    tenantId: string,
    id: string,
  ): Promise<{ doc: records.ChangesetDoc; behind: Partial<records.ChangesetDoc> | null } | null>;
  /** {@link loadChangeset}'s `doc`, or null. */
  getChangeset(tenantId: string, id: string): Promise<records.ChangesetDoc | null>;
  /**
   * Decides the step out of `cs.state` once: the first holder's patch wins; the same holder again
   * wins again (its own retry); a later holder gets the decided patch back (`won: false`) and adopts
   * it; a holder older than the one that decided it is refused.
   */
  decideStep(
    cs: records.ChangesetDoc,
    patch: Partial<records.ChangesetDoc>,
    fence: WriteFence,
  ): Promise<{ won: boolean; patch: Partial<records.ChangesetDoc> }>;
  /** Records fields of a changeset (a decided step, the publish cursor). */
  updateChangeset(
    tenantId: string,
    id: string,
    set: Partial<records.ChangesetDoc>,
    fence?: WriteFence,
  ): Promise<void>;
  /** Takes the changeset off the list of unfinished ones. */
  closeChangeset(tenantId: string, id: string, fence?: WriteFence): Promise<void>;
  /** Changesets of any school not finished, oldest first (`rebuild`: re-list from every changeset, on start). */
  unfinishedChangesets(opts?: { rebuild?: boolean }): Promise<records.ChangesetDoc[]>;
  /**
   * The school's next changeset number (1, 2, …), taken as a changeset starts applying; recorded
   * with it, atomically, which changeset is applying and (for a sync run) the newest fetch time and
   * fetch sequence applied so far ({@link ChangesetOrder}).
   */
  nextChangesetNumber(tenantId: string, fence: WriteFence, applying?: SyncApplying): Promise<number>;
  /** What orders the school's changesets: the one that last started applying, the newest sync fetch applied. */
  changesetOrder(tenantId: string): Promise<ChangesetOrder>;

  // ---- staged chunks, planned changes, findings -------------------------------------------------

  /**
   * Which chunk indexes of a run are staged, per dataset and fingerprint (from the chunk receipts;
   * a receipt without a fingerprint, staged before chunks were keyed by it, is not counted).
   */
  stagedChunks(tenantId: string, syncRunId: string): Promise<records.StagedChunks>;
  /** A staged chunk of one version (`fingerprint`) of a dataset, or null. */
  loadChunk(
    tenantId: string,
    syncRunId: string,
    datasetId: DatasetId,
    fingerprint: string,
    chunkIndex: number,
  ): Promise<records.RawChunkDoc | null>;
  /** Drops a finished run's staged chunks (personal data no longer needed). */
  dropChunks(tenantId: string, syncRunId: string, fence?: WriteFence): Promise<void>;
  /**
   * Runs of any school with a chunk staged before `before` — or with a receipt that has no staging
   * time (staged before receipts recorded it) — from at most `limit` receipts, leaving out the runs
   * named in `skipRunIds`: the sweep of abandoned chunks (`StagedChunkSweeper`).
   */
  runsStagedBefore(
    before: Date,
    limit: number,
    skipRunIds?: readonly string[],
  ): Promise<{ tenantId: string; syncRunId: string }[]>;
  /**
   * When a chunk of the run was last staged or delivered again (a receipt without that time is
   * dated by its chunk, one without either as the epoch); null when none of the run is staged.
   */
  newestChunkAt(tenantId: string, syncRunId: string): Promise<Date | null>;
  /**
   * Stores planned changes under `changesetId` as chunks of CHANGE_CHUNK_SIZE (chunk n holds changes
   * n×size …); chunks already stored are left as they are.
   */
  saveChanges(
    tenantId: string,
    changesetId: string,
    changes: readonly records.StoredChange[],
    fence: WriteFence,
  ): Promise<void>;
  /** One chunk of a changeset's planned changes, or null. */
  changeChunk(tenantId: string, changesetId: string, chunkNo: number): Promise<records.ChangeChunkDoc | null>;
  /** Deletes every change chunk stored under `changesetId` (an old held-batch version, a pruned changeset). */
  dropChanges(tenantId: string, changesetId: string, fence?: WriteFence): Promise<void>;
  /** Stores a run's findings as chunks of FINDING_CHUNK_SIZE; chunks already stored are left as they are. */
  saveFindings(
    tenantId: string,
    syncRunId: string,
    findings: readonly RosterFinding[],
    fence: WriteFence,
  ): Promise<void>;

  // ---- the stored roster ------------------------------------------------------------------------

  /** Per type, every stored entity's image hash and status. */
  loadManifest(tenantId: string): Promise<records.Manifest>;
  /** Sets these entries in the manifest (others untouched; `current`: the manifest as just read). */
  updateManifest(
    tenantId: string,
    updates: ReadonlyArray<{ entityType: RosterEntityType; entry: records.ManifestEntry }>,
    fence?: WriteFence,
    current?: records.Manifest,
  ): Promise<void>;
  /**
   * Writes entity records (each replaces the stored one of its id; `fresh`: expected absent). A
   * record a newer lease generation wrote is not replaced: the write is refused.
   */
  putEntities(
    docs: readonly records.EntityDoc[],
    fresh: (doc: records.EntityDoc) => boolean,
    fence?: WriteFence,
  ): Promise<void>;
  /** Entity records by id (the ones absent are missing from the map). */
  entityDocs(
    tenantId: string,
    entityType: RosterEntityType,
    entityIds: Iterable<string>,
  ): Promise<Map<string, records.EntityDoc>>;
  /** The school's removal thresholds, if an admin set them. */
  thresholds(tenantId: string): Promise<RemovalThresholds | undefined>;

  // ---- the grace period of removed people --------------------------------------------------------

  /** Removed people start their grace period (entries already queued stay as they are). */
  enterGrace(entries: readonly records.GraceDoc[], fence: WriteFence): Promise<void>;
  /** A restored or purged person leaves the grace queue (by the entry's id). */
  leaveGrace(tenantId: string, graceId: string, fence: WriteFence): Promise<void>;
  /** Removed people due for purge (all schools, except `skipTenants`). */
  graceDue(now: Date, limit: number, skipTenants?: readonly string[]): Promise<records.GraceDoc[]>;

  // ---- held batches and discards -----------------------------------------------------------------

  /** The school's pending held batch, or null. */
  pendingBatch(tenantId: string): Promise<records.HeldBatchDoc | null>;
  heldBatch(tenantId: string, batchId: string): Promise<records.HeldBatchDoc | null>;
  /**
   * Approved batches of every school decided at or after `since`, oldest decision first, at most
   * `limit` — the sweeper's check for approvals whose changeset was never created.
   */
  approvedBatchesSince(since: Date, limit: number): Promise<records.HeldBatchDoc[]>;
  /**
   * Discarded and superseded batches of every school decided at or after `since` whose report was
   * not recorded as sent (`decisionReportedAt`), oldest decision first, at most `limit` — the
   * sweeper's check for decisions whose process died before reporting them.
   */
  decisionsToReport(since: Date, limit: number): Promise<records.HeldBatchDoc[]>;
  /** Records that a discarded or superseded batch's report was acknowledged. */
  decisionReported(batch: records.HeldBatchDoc, at: Date, fence: WriteFence): Promise<void>;
  /** The held changes of a batch's current version, in order. */
  heldItems(batch: records.HeldBatchDoc): Promise<records.StoredChange[]>;
  /** Opens the school's pending batch (an existing one of the same id is left as it is). */
  openHeldBatch(batch: records.HeldBatchDoc, fence: WriteFence): Promise<void>;
  /** A later run changed the pending batch's items: records the new version. */
  reviseHeldBatch(batch: records.HeldBatchDoc, revision: HeldBatchRevision, fence: WriteFence): Promise<void>;
  /** Nothing of the pending batch is left to decide: closes it as `superseded`. */
  supersedeHeldBatch(
    batch: records.HeldBatchDoc,
    at: Date,
    bySyncRunId: string,
    fence: WriteFence,
  ): Promise<void>;
  /** Records an admin's approval and the changeset that applies it. */
  approveHeldBatch(
    batch: records.HeldBatchDoc,
    decision: BatchDecision & { approvalChangesetId: string },
    fence: WriteFence,
  ): Promise<void>;
  /** Records an admin's discard. */
  discardHeldBatch(batch: records.HeldBatchDoc, decision: BatchDecision, fence: WriteFence): Promise<void>;
  /** The discarded changes that still hold for the school. */
  discarded(tenantId: string): Promise<DiscardedChange[]>;
  putDiscarded(tenantId: string, entries: DiscardedChange[], now: Date, fence: WriteFence): Promise<void>;

  // ---- the roster before #17 and old changesets --------------------------------------------------

  /** Schools whose roster is still in the legacy buckets (read on start only). */
  legacyBucketTenants(): Promise<string[]>;
  /** Converts one school's legacy buckets into entity records and manifest entries; returns how many. */
  migrateTenantBuckets(tenantId: string, fence?: WriteFence): Promise<number>;
  /** Up to `limit` finished changesets completed before `cutoff` and not pruned yet. */
  finishedBefore(cutoff: Date, limit: number): Promise<records.ChangesetDoc[]>;
  /** Drops an old changeset's staged chunks, change chunks and step claims; marks it pruned. */
  pruneChangeset(cs: records.ChangesetDoc): Promise<void>;
  /** Batches decided (approved, discarded, superseded) before `cutoff` whose held items are still stored. */
  decidedBatchesBefore(cutoff: Date, limit: number): Promise<records.HeldBatchDoc[]>;
  /** Drops a decided batch's held items (the people's images) and records when; the batch itself stays. */
  pruneHeldItems(batch: records.HeldBatchDoc, at: Date): Promise<void>;
}

/** Where the raw-datasets consumer stages a run's chunks (a redelivered chunk changes nothing). */
export interface ChunkStaging {
  /**
   * Stages a chunk unless already staged (same `_id`: run, dataset, fingerprint and index; first copy
   * wins); true when this call stored it. Another version of the dataset is staged beside it. A
   * chunk delivered again renews its receipt's time (`ChangesetStore.newestChunkAt`).
   */
  stageChunk(chunk: records.RawChunkDoc): Promise<boolean>;
}

/** What the read side (`RosterQueries`) needs beyond the changeset store's reads. */
export interface RosterReadStore extends Pick<
  ChangesetStore,
  'getChangeset' | 'changeChunk' | 'heldBatch' | 'heldItems' | 'stagedChunks' | 'thresholds'
> {
  /** Every entity of a school (optionally of one type and status); unordered. */
  listEntityDocs(
    tenantId: string,
    entityType?: RosterEntityType,
    status?: records.EntityDoc['status'],
  ): Promise<records.EntityDoc[]>;
  /** The school's held batches (of one status, when given), newest first. */
  listHeldBatches(tenantId: string, status?: records.HeldBatchDoc['status']): Promise<records.HeldBatchDoc[]>;
  /** One entity, or null. */
  entity(
    tenantId: string,
    entityType: RosterEntityType,
    entityId: string,
  ): Promise<records.EntityRecord | null>;
  findingChunk(tenantId: string, syncRunId: string, chunkNo: number): Promise<records.FindingChunkDoc | null>;
  setThresholds(
    tenantId: string,
    thresholds: RemovalThresholds,
    updatedBy: string | undefined,
    now: Date,
  ): Promise<void>;
}
