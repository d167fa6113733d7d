import type { DatasetId } from '@isams-sync/isams';
import type { Logger } from '@isams-sync/logger';
import type { KeyBinding } from '../domain/key-binding';
import type { FetchPlan, RunFetch } from '../domain/method-groups';
import type { FreshnessMove } from '../domain/data-freshness';
import type { NotificationCondition } from '../domain/notifications';
import type { QueuedRun, RunFinding, RunRecord, RunStepPatch, SchoolSlot } from '../domain/run-record';
import type { SchoolSchedule } from '../domain/schedule';
import type { EncryptedKey, SchoolSettings, VersionedSettings } from '../domain/school-settings';
import type { SourceFormat } from '../domain/settings-rules';
import type {
  AppliedSnapshot,
  HeldBatchDecision,
  RunDatasetStats,
  RunProgress,
  RunStatus,
} from '../domain/sync-run';

// The ports of the connector's use-cases: what the sync engine needs from storage, the run leases,
// the broker, iSAMS and the local spool, and what the key vault, the settings service, the
// connection tests and the notifier need, named by what they do with them. The adapters (MongoDB,
// libs/mongo's leases, Kafka, the iSAMS client, the file spool, the key cipher) implement them; the
// unit tests use in-memory ones (test/support/in-memory).

// ---- runs ---------------------------------------------------------------------------------------

/** The outcome of deciding a run's step: `won` when this call's outcome is the decided one. */
export interface StepDecision {
  won: boolean;
  /** The run as recorded after the decision (whoever decided it); null when it vanished. */
  run: RunRecord | null;
}

/** A claim of the school's one-run slot. */
export type SlotClaim = { claimed: true } | { claimed: false; holder: string | null };

/** A run not yet finished by the connector (start-up recovery reads these). */
export type UnfinishedRun = Pick<RunRecord, '_id' | 'tenantId' | 'status' | 'requestedAt'>;

/**
 * The sync runs, the school slots ("one run per school") and the work queue. A step the connector
 * decides (start, fetched, marker attempt, published, failed, cancelled) is decided once
 * ({@link RunStore.recordStep}); a crashed decider's decision is adopted by whoever reads the run next.
 */
export interface RunStore {
  /** The run as its decided steps say (a decided step not yet recorded on the run is brought forward). */
  get(tenantId: string, syncRunId: string): Promise<RunRecord | null>;
  /** Records a newly requested run. */
  recordRequested(run: RunRecord): Promise<void>;
  /** Manual runs the school requested since `since` (the trigger rate limit). */
  countManualRequestsSince(tenantId: string, since: Date): Promise<number>;
  /**
   * Leaves the run's current step with `set` (and the lifecycle sequence moved on by `inc`): decided
   * once, under the run lease's `fence` (a stale holder is refused) or `null` for a decision made
   * outside a lease (cancelling a queued run). Not won: `run` shows the outcome decided before.
   */
  recordStep(
    run: RunRecord,
    set: RunStepPatch['set'],
    inc: RunStepPatch['inc'],
    fence: RunFence | null,
  ): Promise<StepDecision>;
  /** Progress inside the run's status (with a heartbeat); null when the run left that status. */
  recordProgress(run: RunRecord, progress: RunProgress): Promise<RunRecord | null>;
  /**
   * Keeps the roster's report of `sequence` (once per run and sequence; `set` is what it sets on the
   * run), then applies the newest report kept for the run that the run takes now (domain/sync-run
   * `takesRosterReport`); resolves to the run as it is then (null: no such run). A report kept while
   * the run is not yet `published` is applied by the step that records `published` (`recordStep`
   * and `get` bringing that step forward apply kept reports after their write). Every write of this
   * kind is read back: on FerretDB an update is a read and then a write of the whole document, so a
   * step's write read before a report was applied can put the run back without it.
   */
  recordRosterReport(
    tenantId: string,
    syncRunId: string,
    sequence: number,
    set: Partial<RunRecord>,
  ): Promise<RunRecord | null>;
  /**
   * Ends the school's real runs still `held` on the held batch `heldBatchId` as `decision` —
   * `applied` (approved), `discarded` or `superseded` (the roster reports the batch's decision on the
   * run that opened it; the later runs held on it are decided with it). Idempotent; resolves to every
   * real run of the school on that batch with that status now (those it ended, and those ended before).
   */
  decideHeldRuns(tenantId: string, heldBatchId: string, decision: HeldBatchDecision): Promise<RunRecord[]>;
  /**
   * The decision recorded on the school's real runs of the held batch `heldBatchId` (a run that ended
   * `applied`, `discarded` or `superseded` on it), or undefined while none is: the connector remembers
   * a batch's decision on its runs.
   */
  heldBatchDecision(tenantId: string, heldBatchId: string): Promise<HeldBatchDecision | undefined>;
  /** Runs not yet finished by the connector (requested, fetching, fetched). */
  unfinished(): Promise<UnfinishedRun[]>;

  /** Puts a requested run on the work queue (idempotent). */
  queueRun(entry: QueuedRun): Promise<void>;
  /** The work queue, oldest first; 0 = all. */
  queuedRuns(limit?: number): Promise<QueuedRun[]>;
  dequeueRun(tenantId: string, syncRunId: string): Promise<void>;

  /**
   * The school's next fetch sequence (1, 2, …), taken by the run about to start fetching while it
   * holds the school's slot. Not atomic on FerretDB: concurrent callers may get the same number; only
   * the run whose fenced start step wins records it, so the numbers recorded for a school are
   * distinct. A number taken by a start that then did not happen is skipped (gaps are fine).
   */
  nextFetchSequence(tenantId: string): Promise<number>;
  /** Claims the school's slot for the run (atomic: two requests can't both win). */
  claimSchoolSlot(tenantId: string, syncRunId: string): Promise<SlotClaim>;
  schoolSlot(tenantId: string): Promise<SchoolSlot | null>;
  /** Marks the slot as started (before its run leaves `requested`); false when the run doesn't hold it. */
  markSlotStarted(tenantId: string, syncRunId: string): Promise<boolean>;
  releaseSchoolSlot(tenantId: string, syncRunId: string): Promise<void>;
  /** Every slot (one per school with a queued or running run). */
  schoolSlots(): Promise<SchoolSlot[]>;
}

// ---- school data the engine reads and moves on --------------------------------------------------

/** The school's settings as the engine reads them (written by the settings service only). */
export interface SettingsStore {
  get(tenantId: string): Promise<SchoolSettings | null>;
}

/**
 * When each school next runs and its failure streak (domain/schedule `SchoolSchedule`): the one
 * document the scheduler, a run's end and the admin's save all write, never the settings.
 */
export interface ScheduleStore {
  get(tenantId: string): Promise<SchoolSchedule | null>;
  /** Schedules whose next run is due (`nextRunAt` set and not after `now`), the oldest first. */
  due(now: Date, limit: number): Promise<SchoolSchedule[]>;
  /** Sets the school's next run (and its failure streak, when given; 0 for a new schedule). */
  setNext(tenantId: string, nextRunAt: Date | null, consecutiveFailures?: number): Promise<void>;
  /** Sets the school's next run only while it is still `expected` (one conditional write); true when it did. */
  setNextIf(tenantId: string, expected: Date, nextRunAt: Date | null): Promise<boolean>;
  /**
   * Ends the school's failure streak (a run that ended well) and nothing else: the next run time is
   * the scheduler's or the admin's, whoever set it last.
   */
  clearFailures(tenantId: string): Promise<void>;
}

/** How each school is fetched (whole key or method groups); null = whole key. */
export interface FetchPlanStore {
  get(tenantId: string): Promise<FetchPlan | null>;
  put(tenantId: string, plan: FetchPlan): Promise<void>;
}

/**
 * When the data now in SchoolCloud was fetched, per school: moved on by a run fetched after the one
 * recorded (domain/sync-run `fetchedAfter`), never back to an earlier run.
 */
export interface FreshnessStore {
  advance(tenantId: string, move: FreshnessMove): Promise<void>;
}

/** The fingerprints of the snapshot the roster last applied (the unchanged skip). */
export interface AppliedSnapshotStore {
  get(tenantId: string): Promise<AppliedSnapshot | null>;
  /**
   * Stores the school's snapshot, unless the stored one's run was fetched after this one's
   * (`fetchedAt`): an older run's snapshot never goes back over a newer one's.
   */
  put(tenantId: string, snapshot: AppliedSnapshot, appliedAt: Date): Promise<void>;
}

/** One claim per (school, due time): exactly one replica creates a scheduled run. */
export interface ScheduleClaimStore {
  /** Takes the claim of `dueAt`'s window `attempt` (domain/schedule); false when another holds it. */
  claim(tenantId: string, dueAt: Date, attempt: number): Promise<boolean>;
  prune(before: Date): Promise<void>;
}

/** The school's stored key, revealed only for the stored address's host. */
export interface KeyRevealer {
  reveal(settings: SchoolSettings): Promise<string>;
}

// ---- run leases ---------------------------------------------------------------------------------

/** The fencing token of a held run lease. */
export interface RunFence {
  readonly key: string;
  readonly token: number;
  /** Resolves while the token is the newest; throws a fenced error once a newer holder exists. */
  check(): Promise<void>;
}

/** A run lease this process holds, renewed until released or lost. */
export interface RunLease {
  readonly fence: RunFence;
  /** Aborted once the lease is lost (taken over, not renewed in time) or released. */
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

/** The per-school run leases: one replica works on a school's run at a time. */
export interface RunLeases {
  /** The lease of `key`, or null when another holder has it. */
  acquire(key: string): Promise<RunLease | null>;
  /** Drops generations that expired before `before`. */
  prune(before: Date): Promise<unknown>;
  /** Runs a write under a fence: checks the token, writes, checks again (fenced error either side). */
  fencedWrite<T>(fence: RunFence, write: () => Promise<T>): Promise<T>;
  /** Whether `err` says a newer holder took the lease over (the write was refused). */
  isFenced(err: unknown): boolean;
}

// ---- the local spool ----------------------------------------------------------------------------

/** One run's records while it is fetched (written by the batch source, read by the publisher). */
export interface Spool {
  /** Empties the spool for a (re)started fetch. */
  reset(): Promise<void>;
  /** Drops the spool (writes in flight awaited). */
  remove(): Promise<void>;
  /**
   * Appends records of a dataset: their lines (canonical JSON), each ending with `\n`, in UTF-8.
   * The spool may keep the buffer until it is written: the caller does not reuse it.
   */
  appendLines(datasetId: DatasetId, lines: Uint8Array): Promise<void>;
  /** Creates the (empty) file of a dataset that is present without records. */
  touch(datasetId: DatasetId): Promise<void>;
  /** Drops what was spooled for these datasets (a request that failed part-way). */
  discard(datasetIds: readonly DatasetId[]): Promise<void>;
  /** Flushes and closes (the document ended); throws the first failed write. */
  close(): Promise<void>;
  /**
   * The dataset's lines grouped by the planned chunk sizes, each chunk its lines as written (UTF-8,
   * each line ending with `\n`; empty for an empty chunk); the buffer is the caller's to change.
   * Lines appended so far and not yet written are written first. `prefix`: the plan covers the
   * first lines only (a dataset read while its document is still being read may get more);
   * otherwise the lines must match it exactly.
   */
  chunks(
    datasetId: DatasetId,
    chunkRecords: readonly number[],
    opts?: { prefix?: boolean },
  ): AsyncGenerator<Buffer>;
}

/** Every run's spool on this process. */
export interface Spools {
  forRun(syncRunId: string): Spool;
  /** Removes every run's spool except those of `keepRunIds`; resolves to how many it removed. */
  removeAllExcept(keepRunIds: readonly string[]): Promise<number>;
}

// ---- iSAMS --------------------------------------------------------------------------------------

/** Where and how to reach one school's iSAMS. */
export interface IsamsSource {
  baseUrl: string;
  apiKey: string;
  format: SourceFormat;
}

export interface FetchProgress {
  datasetsDone: number;
  recordsFetched: number;
  bytesFetched: number;
  /** Method groups done and in all, when fetching in groups. */
  groupsDone?: number;
  groupsTotal?: number;
}

export interface FetchResult {
  datasets: RunDatasetStats[];
  absent: DatasetId[];
  unknownContainers: string[];
  findings: RunFinding[];
  bytes: number;
  /** Whole key or method groups, and each group's outcome. */
  fetch: RunFetch;
  /** A whole-key fetch's sha256 of the document's bytes. */
  documentSha256?: string;
}

/**
 * A whole-key fetch that stopped once the document's bytes hashed to {@link SpoolFetch.knownSha256}:
 * the document is the one read then; the spool holds nothing to publish.
 */
export interface KnownDocumentFetch {
  known: true;
  sha256: string;
  bytes: number;
  fetch: RunFetch;
}

/** One run's fetch of a school's document into its spool. */
export interface SpoolFetch {
  source: IsamsSource;
  spool: Spool;
  maxChunkRecordBytes: number;
  signal: AbortSignal;
  logger: Logger;
  /** The school's stored fetch plan (whole key when null). */
  plan: FetchPlan | null;
  /** Called whenever the plan changes (switch to groups, a split, a contacts name learnt): persist it. */
  onPlanChange: (plan: FetchPlan) => Promise<void>;
  /** Called whenever a group's state changes (for the run record, also when the run fails). */
  onFetch: (fetch: RunFetch) => void;
  onProgress: (p: FetchProgress) => void;
  /** The sha256 of the applied snapshot's document: a whole-key document with these bytes is not parsed. */
  knownSha256?: string;
  /**
   * Told each time a dataset's container ends, with the dataset as read so far (its records are in
   * the spool, its fingerprint and chunk plan those of these records): it may be published while
   * the rest of the document is read. Not final — a later container of the same dataset, a retried
   * group or a switch to method groups may change it (the spool's `reset`/`discard` come first);
   * the result's datasets are what the run publishes.
   */
  onDatasetRead?: (dataset: RunDatasetStats) => void;
}

/** Fetches and stream-parses a school's document into the spool; throws when nothing may be published. */
export interface BatchSource {
  fetchToSpool(request: SpoolFetch): Promise<FetchResult | KnownDocumentFetch>;
}

// ---- the broker ---------------------------------------------------------------------------------

/** Publishes a run's chunks, its run-complete marker and its lifecycle events (deterministic ids). */
export interface RunPublisher {
  /** The lifecycle event of the run's current state. */
  publishRunUpdate(run: RunRecord): Promise<void>;
  /**
   * Every chunk of these datasets (the run's, or datasets read so far: `prefix`, see
   * {@link Spool.chunks}), read from the spool; `onPublished` after each batch, with the dataset
   * (version) of each chunk the batch held.
   */
  publishChunks(
    run: RunRecord,
    datasets: readonly RunDatasetStats[],
    spool: Spool,
    onPublished: (chunks: readonly RunDatasetStats[]) => void | Promise<void>,
    opts?: { prefix?: boolean },
  ): Promise<void>;
  /** The commit point: after this the roster may apply the snapshot. */
  publishMarker(run: RunRecord): Promise<void>;
}

// ---- the key vault, the settings service, connection tests and notifications ---------------------

/** Encrypts/decrypts iSAMS keys under the configured key-encryption keys (adapters/crypto). */
export interface KeyCipher {
  readonly currentKekId: string;
  /** Always bound to the school and the origin. */
  encrypt(binding: KeyBinding, plaintext: string): EncryptedKey;
  /**
   * A bound key decrypts only for the binding it was encrypted for. A legacy key (no `binding`)
   * decrypts with the school alone: only the key vault calls this for legacy keys, for the stored
   * address, to bind them.
   */
  decrypt(binding: KeyBinding, encrypted: EncryptedKey): string;
}

/** The schools' stored keys, as the key vault re-encrypts and binds them. */
export interface StoredKeys {
  /**
   * Replaces the school's key while its stored address and key are still `expected` (compare and
   * set); false when the settings changed meanwhile.
   */
  replaceKey(
    tenantId: string,
    expected: { isamsUrl: string; key: EncryptedKey },
    key: EncryptedKey,
  ): Promise<boolean>;
  /** Settings whose key is stored without its host binding (legacy). */
  withUnboundKeys(): AsyncIterable<SchoolSettings>;
}

/** The schools' data-source settings as the settings service saves and lists them. */
export interface SettingsRecords {
  get(tenantId: string): Promise<SchoolSettings | null>;
  /**
   * Saves the school's settings whole as `settings.version`, only over `settings.version - 1`
   * (one conditional write: version 1 only where none are stored). Atomic on MongoDB; on FerretDB
   * 1.24 the condition is checked before the write, so two saves sent in the same instant over one
   * version can both be stored (libs/mongo README › compareAndSet). False when the settings are no
   * longer at that version: nothing was stored. `keptKey`: the stored key the save read and keeps —
   * the write is then also conditional on it, so a save that read the key before the KEK rotation
   * re-encrypted it (`replaceKey`, which leaves the version) cannot put the old encryption back.
   */
  save(settings: VersionedSettings, keptKey?: EncryptedKey): Promise<boolean>;
  all(): AsyncIterable<SchoolSettings>;
}

/** One change of a school's iSAMS address, as the audit records it. Never holds a key. */
export interface AddressChangeEntry {
  tenantId: string;
  at: Date;
  /** Who saved it: the caller's actor (`token:<id>`, `jwt:<subject>`), never a credential. */
  actor: string;
  requestId: string;
  previousOrigin: string;
  newOrigin: string;
  previousUrl: string;
  newUrl: string;
  /** The key was entered with the change (required when the host changes). */
  keyEntered: boolean;
}

/** The append-only audit of address changes: recorded pending before the save, settled after it. */
export interface SettingsAuditLog {
  /** Records the change as `pending`; resolves to its id. */
  begin(change: AddressChangeEntry): Promise<string>;
  settle(tenantId: string, id: string, outcome: 'saved' | 'failed'): Promise<void>;
}

/** One connection test's fetch: the school's document fetched and parsed, records only counted. */
export interface ConnectionProbe {
  /** Nothing is spooled, published or stored (a plan change it learns is not kept); throws `IsamsError`. */
  probe(request: { source: IsamsSource; plan: FetchPlan | null; signal: AbortSignal }): Promise<FetchResult>;
}

/** A held exclusive lease (one holder across replicas); its signal aborts once it is lost. */
export interface HeldExclusiveLease {
  readonly signal: AbortSignal;
  release(): Promise<void>;
}

/** Exclusive leases by key across replicas (a crashed holder's lease expires after its TTL). */
export interface ExclusiveLeases {
  /** The lease of `key`, or null when another holder has it. */
  acquire(key: string): Promise<HeldExclusiveLease | null>;
}

/** What is kept of ended runs (use-cases/run-retention, domain/run-retention). */
export interface RunRetentionStore {
  /**
   * Drops step claims and kept reports dated before `before` of runs that have ended (or are gone):
   * at most `limit` of each a call. Resolves to how many documents went.
   */
  dropEndedBookkeeping(before: Date, limit: number): Promise<number>;
  /** Drops at most `limit` ended runs requested before `before`, oldest first; how many went. */
  dropEndedRuns(before: Date, limit: number): Promise<number>;
}

/**
 * Records that go once they are older than a cut-off (use-cases/run-retention): the address-change
 * audit (`AUDIT_RETENTION_DAYS`) and the notification claims (`RUN_HISTORY_DAYS`).
 */
export interface AgedRecords {
  /** Drops every school's records dated before `before`; how many went. */
  dropOlderThan(before: Date): Promise<number>;
}

/** The runs the notifier reads. */
export interface RunHistory {
  get(tenantId: string, syncRunId: string): Promise<RunRecord | null>;
  /** The school's newest runs (newest first) in one of `statuses`, at most `limit`. */
  newest(tenantId: string, statuses: readonly RunStatus[], limit: number): Promise<RunRecord[]>;
}

/** When the data now in SchoolCloud was fetched (null: never). */
export interface FreshnessReader {
  get(tenantId: string): Promise<{ dataAsOf: Date } | null>;
}

/** The claim of one e-mail: `_id` = {@link notificationKey}, so one per school, condition and local day. */
export interface NotificationClaim {
  _id: string;
  tenantId: string;
  condition: NotificationCondition;
  day: string;
  claimedAt: Date;
  claimedBy: string;
  subject: string;
  /** How many addresses it went to (the addresses themselves are not stored here). */
  recipients: number;
  syncRunId?: string;
  /** Set once the SMTP server accepted the message. */
  sentAt?: Date;
}

/** The e-mail claims: exactly one replica wins a claim; a refused e-mail's claim is given back. */
export interface NotificationClaims {
  /** True when this caller won the claim (insert if absent). */
  claim(claim: NotificationClaim): Promise<boolean>;
  /** Gives the claim back (the e-mail was not sent; it may be tried again). */
  release(tenantId: string, id: string): Promise<void>;
  markSent(tenantId: string, id: string, sentAt: Date): Promise<void>;
}
