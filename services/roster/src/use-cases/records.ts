/**
 * The roster's records as the use-cases read and write them through their ports (`ports.ts`):
 * changesets and their planned changes, stored entities and the manifest of their hashes, held
 * batches, staged chunks — with their deterministic ids and the chunk sizes both sides agree on.
 * The MongoDB store (adapters/mongo) persists them as documents of these shapes.
 */
import { hash as hashText } from 'node:crypto';
import type { RosterEntityType } from '@isams-sync/events';
import type { UndoSkipReason } from '../domain/run-undo';
import type { DatasetId, RawElement } from '@isams-sync/isams';
import type { ChangeCounts } from '../domain/change-counts';
import type { HoldKind, HoldReason } from '../domain/guard';
import type { RosterEntity, RosterFinding } from '../domain/roster-model';
import type { TraceCarrier } from '@isams-sync/telemetry';
import { canonicalJson } from '../domain/diff';
import type { PlannedChange } from '../domain/diff';

/**
 * `rawChunks`: one staged chunk of one version (`fingerprint`) of one dataset of one run
 * (`_id` = `ids.chunk`).
 */
export interface RawChunkDoc {
  _id: string;
  tenantId: string;
  syncRunId: string;
  datasetId: DatasetId;
  chunkIndex: number;
  chunkCount: number;
  fingerprint: string;
  records: RawElement[];
  receivedAt: Date;
}

/**
 * The chunk indexes of a run that are staged, per dataset and fingerprint. One run can carry a
 * dataset in several versions (the connector publishes a dataset as soon as it has read it, and may
 * read it again); only the version whose fingerprint the marker names counts.
 */
export type StagedChunks = ReadonlyMap<DatasetId, ReadonlyMap<string, ReadonlySet<number>>>;

/** How many of the `chunkCount` chunks of one version (`fingerprint`) of a dataset are staged. */
export function stagedCount(
  staged: StagedChunks,
  datasetId: DatasetId,
  fingerprint: string,
  chunkCount: number,
): number {
  let n = 0;
  for (const i of staged.get(datasetId)?.get(fingerprint) ?? []) if (i < chunkCount) n += 1;
  return n;
}

/** Whether every chunk of the version of each dataset the marker names is staged. */
export function markerStaged(marker: Pick<StoredMarker, 'datasets'>, staged: StagedChunks): boolean {
  return marker.datasets.every(
    (d) => stagedCount(staged, d.datasetId, d.fingerprint, d.chunkCount) >= d.chunkCount,
  );
}

/** Adds a staged chunk to `staged` (what the stores build their answer with). */
export function addStaged(
  staged: Map<DatasetId, Map<string, Set<number>>>,
  chunk: Pick<RawChunkDoc, 'datasetId' | 'fingerprint' | 'chunkIndex'>,
): void {
  const versions = staged.get(chunk.datasetId) ?? new Map<string, Set<number>>();
  staged.set(chunk.datasetId, versions);
  versions.set(
    chunk.fingerprint,
    (versions.get(chunk.fingerprint) ?? new Set<number>()).add(chunk.chunkIndex),
  );
}

/** Processing states of a changeset, in order (see docs/roster-model.md). */
export const RUN_STATES = [
  'waiting',
  'staged',
  'diffed',
  'applying',
  'publishing',
  'reporting',
  'done',
  'failed',
] as const;
export type RunState = (typeof RUN_STATES)[number];

/** The run-complete marker as the roster keeps it. */
export interface StoredMarker {
  trigger: { kind: 'schedule' | 'manual'; actor?: string };
  dryRun: boolean;
  /** When the fetch ended, by the clock of the connector replica that fetched it. */
  fetchedAt: string;
  /**
   * The run's place in its school's fetch order (the marker's `fetchSequence`): what orders the
   * school's sync runs. Absent from markers of connectors before it (then `fetchedAt` does).
   */
  fetchSequence?: number;
  datasets: { datasetId: DatasetId; chunkCount: number; recordCount: number; fingerprint: string }[];
  absentDatasets: DatasetId[];
}

/** `changesets`: one per sync run (kind `sync`), per approved held batch (kind `approval`), per undone run (kind `undo`). */
export interface ChangesetDoc {
  _id: string;
  tenantId: string;
  /**
   * W3C trace context of what created the changeset (the run-complete marker's consumer span, the
   * approval's or undo's gRPC call), when tracing is on: every step's span is its child, whichever
   * event, sweep or restart later advances the changeset.
   */
  trace?: TraceCarrier;
  /** The sync run (for an approval: the run whose batch was approved). */
  syncRunId: string;
  kind: ChangesetKind;
  state: RunState;
  dryRun: boolean;
  marker?: StoredMarker;
  receivedAt: Date;
  /** Fixed when the snapshot is complete; the time of every event and removal of this changeset. */
  processedAt?: Date;
  completedAt?: Date;
  changeCount?: number;
  applyCount?: number;
  heldCount?: number;
  chunkCount?: number;
  findingCount?: number;
  counts?: Partial<Record<RosterEntityType, ChangeCounts>>;
  heldBatchId?: string;
  heldTypes?: Partial<Record<RosterEntityType, HoldReason>>;
  /** What the held batch holds (`whole_run`: the document looked like another school's) and why, in plain words. */
  holdKind?: HoldKind;
  holdReason?: string;
  /**
   * The school's changeset number, taken when it started applying (`ChangesetStore.nextChangesetNumber`):
   * with a change's `seq` it is the change's `revision` on both roster topics (absent: applied before
   * revisions existed, or a dry run).
   */
  number?: number;
  /** Change chunks whose events the broker acknowledged. */
  publishedChunks?: number;
  /** Changes an earlier discard still covers (disposition `discarded`): neither applied nor held. */
  discardedCount?: number;
  outcome?: 'applied' | 'held' | 'failed';
  error?: { code: string; message: string; transient: boolean };
  approvedBy?: string;
  /** Kind `undo`: who undid the run, why, and what of the run's removals could not be restored. */
  undoneBy?: string;
  undoComment?: string;
  undoSkipped?: Partial<Record<UndoSkipReason, number>>;
}

export type ChangesetKind = 'sync' | 'approval' | 'undo';

/** Removal details of a removed change / entity. */
export interface RemovalInfo {
  reason: 'absent_from_feed' | 'approved_held_batch';
  graceUntil: string;
  heldBatchId?: string;
  approvedBy?: string;
}

/** One planned change as stored in a change chunk: the change, its place and what becomes of it. */
export interface StoredChange extends PlannedChange {
  seq: number;
  /**
   * `apply`: applied by this run; `held`: waits in the pending held batch; `discarded`: an admin
   * discarded this very change (same person, same content) earlier, so it is neither applied nor held.
   */
  disposition: 'apply' | 'held' | 'discarded';
  removal?: RemovalInfo;
  /** On a `restored` of an undone run. */
  restoration?: { reason: 'run_undone'; undoneBy?: string };
}

/** `changeChunks`: up to CHANGE_CHUNK_SIZE planned changes of a changeset, in order. */
export interface ChangeChunkDoc {
  _id: string;
  tenantId: string;
  changesetId: string;
  chunkNo: number;
  changes: StoredChange[];
}

/** `findingChunks`: findings of a run, in order. */
export interface FindingChunkDoc {
  _id: string;
  tenantId: string;
  syncRunId: string;
  chunkNo: number;
  findings: RosterFinding[];
}

/** One stored roster entity, as the store's readers see it (an {@link EntityDoc} with its image as `data`). */
export interface EntityRecord {
  entityType: RosterEntityType;
  entityId: string;
  status: 'active' | 'removed';
  /** Current image; `{ id }` only once a removed person was purged. */
  data: RosterEntity;
  lastChangeId: string;
  /** The last change's revision (absent when it was applied before revisions existed). */
  revision?: { changeset: number; change: number };
  lastSyncRunId: string;
  changedAt: string;
  removedAt: string | null;
  graceUntil: string | null;
  removal: RemovalInfo | null;
  purged: boolean;
  purgedAt: string | null;
}

/**
 * `entities` (`<tenant>|<type>|<id>`): one document per stored roster entity. Its image is a plain
 * sub-document (`image`), readable by anyone looking at the database; `hash` is the content hash of
 * the image ({@link imageHash}), the value the school's manifest carries for it.
 */
export interface EntityDoc extends Omit<EntityRecord, 'data'> {
  _id: string;
  tenantId: string;
  hash: string;
  image: RosterEntity;
}

/** Per type, the manifest entries of a school by entity id. */
export type Manifest = Partial<Record<RosterEntityType, Map<string, ManifestEntry>>>;

/** One entity in a manifest chunk: what the diff needs without reading the entity's image. */
export interface ManifestEntry {
  id: string;
  /** {@link imageHash} of the stored image. */
  hash: string;
  status: 'active' | 'removed';
  /** Present (true) once a removed person's personal data was purged. */
  purged?: true;
}

/** `graceQueue`: removed people awaiting their purge (the sweeper's work list; deleted on purge or restore). */
export interface GraceDoc {
  _id: string;
  tenantId: string;
  entityType: RosterEntityType;
  entityId: string;
  graceUntil: Date;
}

/**
 * `heldBatches`: changes held by the guard for an admin (a run's removals, or a whole run). A school
 * has at most one `pending` batch; later runs update its items (a new `version`) until it is decided.
 */
export interface HeldBatchDoc {
  _id: string;
  tenantId: string;
  batchId: string;
  /** The run that opened the batch (its approval is reported on this run). */
  syncRunId: string;
  /**
   * `superseded`: nothing of it is left to decide (every held change stopped applying), or — for
   * batches stored before batches stayed pending — a later run replaced it.
   */
  status: 'pending' | 'approved' | 'discarded' | 'superseded';
  createdAt: Date;
  /** Bumped whenever a later run changes the items; approve/discard may name the version they saw. Absent = 1. */
  version?: number;
  /** Where the items of the current version are (change chunks); absent = the opening run's `held` changes. */
  itemsChangesetId?: string;
  itemChunkCount?: number;
  /**
   * When the held items (the images of the people held) were dropped, the grace period after the
   * decision (GraceSweeper): the batch then keeps its decision and counts, and lists no items.
   */
  itemsPrunedAt?: Date;
  /** `itemsFingerprint` of the current items. */
  itemsHash?: string;
  /** The last run that changed the items, and when. */
  lastSyncRunId?: string;
  updatedAt?: Date;
  /** `removals` (absent for batches stored before whole-run holds) or `whole_run`. */
  kind?: HoldKind;
  /** Why, in plain words (absent for batches stored before it was recorded). */
  reason?: string;
  heldTypes: Partial<Record<RosterEntityType, HoldReason>>;
  countsByType: Partial<Record<RosterEntityType, number>>;
  total: number;
  decidedBy?: string;
  decidedAt?: Date;
  comment?: string;
  approvalChangesetId?: string;
  /**
   * A discarded or superseded batch: when its report (`sync.runs.v1` sequence 3 `discarded` or
   * `superseded` on the opening run) was acknowledged. Absent while it is owed: a retried discard or
   * the sweeper sends it.
   */
  decisionReportedAt?: Date;
}

export const CHANGE_CHUNK_SIZE = 500;
export const FINDING_CHUNK_SIZE = 1000;

export const ids = {
  /**
   * A staged chunk. The dataset's fingerprint is part of it: a run can carry one dataset in several
   * versions, whose chunk indexes overlap (see `StagedChunks`).
   */
  chunk: (tenantId: string, runId: string, datasetId: string, fingerprint: string, chunkIndex: number) =>
    `${tenantId}|${runId}|${datasetId}|${fingerprint}|${chunkIndex}`,
  changeset: (tenantId: string, runId: string, kind: ChangesetKind = 'sync') =>
    `${tenantId}|${runId}${kind === 'sync' ? '' : `|${kind}`}`,
  changeChunk: (changesetId: string, chunkNo: number) =>
    `${changesetId}|c${String(chunkNo).padStart(6, '0')}`,
  findingChunk: (tenantId: string, runId: string, chunkNo: number) =>
    `${tenantId}|${runId}|f${String(chunkNo).padStart(6, '0')}`,
  entity: (tenantId: string, entityType: string, entityId: string) => `${tenantId}|${entityType}|${entityId}`,
  /** A manifest chunk (`chunkOf`). */
  manifest: (tenantId: string, entityType: string, chunk: number) => `${tenantId}|${entityType}|m${chunk}`,
  /** A legacy entity bucket (before #17; see `EntityBucketDoc`). */
  bucket: (tenantId: string, entityType: string, bucket: number) => `${tenantId}|${entityType}|b${bucket}`,
  heldBatch: (tenantId: string, batchId: string) => `${tenantId}|${batchId}`,
  /** The change chunks of one version of a held batch's items. */
  heldItems: (tenantId: string, batchId: string, version: number) => `${tenantId}|${batchId}|v${version}`,
  discarded: (tenantId: string) => `${tenantId}|discarded`,
  /** A held batch is named after its run. */
  batchOf: (runId: string) => `held-${runId}`,
  changeId: (runId: string, seq: number) => `${runId}#${seq}`,
};

/** `items` cut into consecutive slices of `size` (the last may be shorter; none for no items). */
function slices<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The change chunks a changeset's planned changes are stored in (CHANGE_CHUNK_SIZE each, in order). */
export function changeChunkDocs(
  tenantId: string,
  changesetId: string,
  changes: readonly StoredChange[],
): ChangeChunkDoc[] {
  return slices(changes, CHANGE_CHUNK_SIZE).map((part, chunkNo) => ({
    _id: ids.changeChunk(changesetId, chunkNo),
    tenantId,
    changesetId,
    chunkNo,
    changes: part,
  }));
}

/** The finding chunks a run's findings are stored in (FINDING_CHUNK_SIZE each, in order). */
export function findingChunkDocs(
  tenantId: string,
  syncRunId: string,
  findings: readonly RosterFinding[],
): FindingChunkDoc[] {
  return slices(findings, FINDING_CHUNK_SIZE).map((part, chunkNo) => ({
    _id: ids.findingChunk(tenantId, syncRunId, chunkNo),
    tenantId,
    syncRunId,
    chunkNo,
    findings: part,
  }));
}

/**
 * A stored changeset rolled forward through the step claims it is behind (a holder stopped between
 * deciding a step and recording it): `claimed(state)` is the patch decided for leaving `state`, or
 * null while undecided. `behind` is what the stored document lacks (null when it is up to date).
 */
export async function rollChangesetForward(
  stored: ChangesetDoc,
  claimed: (state: RunState) => Promise<Partial<ChangesetDoc> | null>,
): Promise<{ doc: ChangesetDoc; behind: Partial<ChangesetDoc> | null }> {
  let doc = stored;
  let behind: Partial<ChangesetDoc> | null = null;
  for (let i = 0; i < RUN_STATES.length && doc.state !== 'done' && doc.state !== 'failed'; i += 1) {
    const patch = await claimed(doc.state);
    if (patch === null) break;
    behind = { ...(behind ?? {}), ...patch };
    doc = { ...doc, ...patch };
  }
  return { doc, behind };
}

/**
 * The held changes of a batch's current version, in order: the `held` changes of the changeset its
 * items are stored with (`itemsChangesetId`, else the run's own changeset), read chunk by chunk.
 */
export async function readHeldItems(
  batch: HeldBatchDoc,
  store: {
    getChangeset(tenantId: string, id: string): Promise<ChangesetDoc | null>;
    changeChunk(tenantId: string, changesetId: string, chunkNo: number): Promise<ChangeChunkDoc | null>;
  },
): Promise<StoredChange[]> {
  const { tenantId } = batch;
  const csId = batch.itemsChangesetId ?? ids.changeset(tenantId, batch.syncRunId);
  const chunks = batch.itemChunkCount ?? (await store.getChangeset(tenantId, csId))?.chunkCount ?? 0;
  const out: StoredChange[] = [];
  for (let i = 0; i < chunks; i += 1)
    for (const c of (await store.changeChunk(tenantId, csId, i))?.changes ?? [])
      if (c.disposition === 'held') out.push(c);
  return out;
}

/**
 * The content hash of an entity image: SHA-1 (base64url) of its canonical JSON, so equal images
 * (whatever their key order or `undefined` fields) have equal hashes. Stored on the entity and in the
 * manifest; a resync compares it with the incoming image's hash instead of reading the stored image.
 */
export function imageHash(image: RosterEntity): string {
  return hashText('sha1', canonicalJson(image), 'base64url');
}

/** The document of a stored entity. */
export function entityDocOf(tenantId: string, record: EntityRecord): EntityDoc {
  const { data, ...rest } = record;
  return {
    _id: ids.entity(tenantId, record.entityType, record.entityId),
    tenantId,
    ...rest,
    hash: imageHash(data),
    image: data,
  };
}

/** An entity document's manifest entry. */
export function manifestEntryOf(doc: EntityDoc): { entityType: RosterEntityType; entry: ManifestEntry } {
  return {
    entityType: doc.entityType,
    entry: {
      id: doc.entityId,
      hash: doc.hash,
      status: doc.status,
      ...(doc.purged ? { purged: true as const } : {}),
    },
  };
}

/** An entity document as readers see it (`image` as `data`, no store fields). */
export function toRecord(d: EntityDoc): EntityRecord {
  const { _id, tenantId, hash, image, fence, ...rest } = d as EntityDoc & { fence?: number };
  void _id;
  void tenantId;
  void hash;
  void fence;
  return { ...rest, data: image };
}
