import { compareFetchOrder, TERMINAL_SYNC_RUN_STATUSES } from '@isams-sync/events';
import { FINDING_CODES } from '@isams-sync/isams';
import type { DatasetId, ParserLimits } from '@isams-sync/isams';
import type { RunFinding, RunRecord } from './run-record';

export type RunStatus =
  | 'requested'
  | 'fetching'
  | 'fetched'
  | 'published'
  | 'applying'
  | 'applied'
  | 'unchanged'
  | 'held'
  | 'failed'
  | 'cancelled'
  | 'discarded'
  | 'superseded';

/**
 * The statuses of an ended run (a held one still becomes `applied`, `discarded` or `superseded` when
 * its batch is decided).
 */
export const TERMINAL_STATUSES: readonly RunStatus[] = TERMINAL_SYNC_RUN_STATUSES;
/**
 * The ended statuses that are an outcome of the school's sync (every terminal one but `cancelled`:
 * nobody's sync happened): what a failure streak and the notifier's checks read.
 */
export const OUTCOME_STATUSES: readonly RunStatus[] = TERMINAL_STATUSES.filter((s) => s !== 'cancelled');
/** Every status of a run that has not ended (the others are {@link TERMINAL_STATUSES}). */
export const IN_FLIGHT_STATUSES: readonly RunStatus[] = [
  'requested',
  'fetching',
  'fetched',
  'published',
  'applying',
];
/** Statuses in which the connector itself is working on the run (needs a live lease). */
export const CONNECTOR_ACTIVE_STATUSES: readonly RunStatus[] = ['fetching', 'fetched'];
/**
 * The statuses the roster reports after the marker (`discarded`: an admin discarded the run's held
 * batch; `superseded`: a later run left nothing of it to decide).
 */
export const ROSTER_STATUSES: readonly RunStatus[] = [
  'applying',
  'applied',
  'held',
  'failed',
  'discarded',
  'superseded',
];

export function isTerminal(status: RunStatus): boolean {
  return TERMINAL_STATUSES.includes(status);
}

/** The sequence of the roster's report of an admin's decision on a run's held batch (docs/events.md). */
export const HELD_BATCH_DECISION_SEQUENCE = 3;

/**
 * How a held batch was decided, as the runs held on it end: approved (`applied`), `discarded` by an
 * admin, or `superseded` (the roster closed it: a later run left nothing of it to decide).
 */
export type HeldBatchDecision = Extract<RunStatus, 'applied' | 'discarded' | 'superseded'>;
export const HELD_BATCH_DECISIONS: readonly HeldBatchDecision[] = ['applied', 'discarded', 'superseded'];

/**
 * The decision a real run held on a batch ended with, or undefined for any other run. A run has a
 * `heldBatchId` only from a `held` report (or a decision's report that names the batch); after it,
 * `applied` (the roster's sequence 3 once the approval is applied), `discarded` or `superseded` is
 * the batch's decision.
 */
export function heldBatchDecisionOf(run: {
  status: RunStatus;
  dryRun: boolean;
  heldBatchId?: string | undefined;
}): HeldBatchDecision | undefined {
  if (run.dryRun || run.heldBatchId === undefined) return undefined;
  return HELD_BATCH_DECISIONS.find((d) => d === run.status);
}

/**
 * Whether a requested run may start, from its school's settings as the start reads them: a school
 * whose sync was paused meanwhile gets its run cancelled (`sync-disabled`); a run already fetching
 * when sync is paused is let finish. Without settings the run starts, and fails on them.
 */
export function startRefusal(settings: { enabled: boolean } | null): 'sync-disabled' | null {
  return settings !== null && !settings.enabled ? 'sync-disabled' : null;
}

export interface RunTrigger {
  kind: 'schedule' | 'manual';
  actor?: string;
}

export interface RunError {
  code: string;
  message: string;
  adminAction?: string;
  transient: boolean;
}

export interface RunDatasetStats {
  datasetId: DatasetId;
  present: boolean;
  recordCount: number;
  bytes: number;
  chunkCount: number;
  /** Records per chunk (internal: lets a restarted publish rebuild the same chunks). */
  chunkRecords: number[];
  fingerprint: string;
}

export interface RunProgress {
  datasetsDone: number;
  datasetsTotal: number;
  recordsFetched: number;
  bytesFetched: number;
  chunksPublished: number;
  chunksTotal: number;
  /** Method groups fetched so far and in all (fetches in groups only). */
  groupsDone?: number;
  groupsTotal?: number;
}

export const EMPTY_PROGRESS: RunProgress = {
  datasetsDone: 0,
  datasetsTotal: 0,
  recordsFetched: 0,
  bytesFetched: 0,
  chunksPublished: 0,
  chunksTotal: 0,
};

/**
 * A whole-key document's bytes (sha256) and the reading that made a run's datasets of them
 * ({@link readingOf}). The same bytes under the same reading give the same datasets, fingerprints,
 * chunks and findings.
 */
export interface DocumentReading {
  sha256: string;
  reading: string;
}

/** What a fetch made of its document (the run record's fields of the same names, and its byte count). */
export interface FetchSummary {
  datasets: RunDatasetStats[];
  absent: DatasetId[];
  unknownContainers: string[];
  findings: RunFinding[];
  bytes: number;
}

/** Where a run stands in its school's fetch order (the run record's fields of the same names). */
export interface FetchOrder {
  /** The school's fetch sequence the run took as it started fetching (RunRecord.fetchSequence). */
  fetchSequence?: number;
  /** When the fetch ended, by the clock of the replica that fetched it. */
  fetchedAt?: Date;
}

/**
 * Whether the run at `a` was fetched after the one at `b`, by the marker's contract
 * (libs/events `compareFetchOrder`): the higher fetch sequence is the newer document, whatever the
 * clocks of the replicas that fetched them said; when either has no sequence (a run started before
 * they were kept), the fetch times decide, and a run without one counts as earliest.
 */
export function fetchedAfter(a: FetchOrder, b: FetchOrder): boolean {
  return compareFetchOrder(a, b).order > 0;
}

/** The fingerprints of the snapshot the roster last applied for a school. */
export interface AppliedSnapshot extends FetchOrder {
  syncRunId: string;
  /**
   * When its run's document was fetched, and (`fetchSequence`) its place in the school's fetch
   * order: a snapshot is never replaced by that of a run fetched before it ({@link fetchedAfter}; a
   * late repeat of an older run's report). Absent in snapshots stored before each was kept.
   */
  fetchedAt?: Date;
  fingerprints: Partial<Record<DatasetId, string>>;
  absent: DatasetId[];
  /**
   * Datasets whose container the document had more than once (ISAMS_DUPLICATE_CONTAINER): a version
   * read at the end of one of their containers is not the dataset's, so it does not show the next
   * run differs (use-cases/chunk-publishing).
   */
  repeatedContainers?: DatasetId[];
  /**
   * Its document, when it came whole: a later fetch whose bytes hash the same under the same
   * reading has this summary without being read (the byte-identical skip).
   */
  document?: DocumentReading & { summary: FetchSummary };
}

/** What, besides a document's bytes, decides what a fetch records of them. */
export interface ReadingParts {
  /** libs/isams `ISAMS_READER_VERSION`: the parse events of the same bytes. */
  readerVersion: number;
  /** `CANONICAL_JSON_VERSION`: the text of each record (and so the fingerprints). */
  canonicalVersion: number;
  /** `MAX_CHUNK_BYTES`: the chunk plans. */
  maxChunkBytes: number;
  /** The parser limits: a lowered one may refuse bytes it took before. */
  parserLimits: ParserLimits;
}

/** The reading a connector gives a document, as one comparable string. */
export function readingOf(parts: ReadingParts): string {
  const l = parts.parserLimits;
  const limits = [l.maxDepth, l.maxRecordBytes, l.maxRecordsPerDataset, l.maxRecordsPerDocument];
  return `isams-reader ${parts.readerVersion}; canonical ${parts.canonicalVersion}; chunk ${parts.maxChunkBytes}; limits ${limits.join('/')}`;
}

/** The snapshot an applied run leaves: its fingerprints, and its document's bytes and summary when it came whole. */
export function appliedSnapshotOf(run: RunRecord): AppliedSnapshot {
  const { datasets, absent, unknownContainers, findings } = run;
  const repeatedContainers = [
    ...new Set(
      findings.flatMap((f) =>
        f.code === FINDING_CODES.DUPLICATE_CONTAINER && f.datasetId !== undefined ? [f.datasetId] : [],
      ),
    ),
  ];
  return {
    syncRunId: run._id,
    ...(run.fetchedAt ? { fetchedAt: run.fetchedAt } : {}),
    ...(run.fetchSequence === undefined ? {} : { fetchSequence: run.fetchSequence }),
    fingerprints: Object.fromEntries(datasets.map((d) => [d.datasetId, d.fingerprint])),
    absent,
    ...(repeatedContainers.length > 0 ? { repeatedContainers } : {}),
    ...(run.document
      ? {
          document: {
            ...run.document,
            summary: { datasets, absent, unknownContainers, findings, bytes: run.progress.bytesFetched },
          },
        }
      : {}),
  };
}

/**
 * The applied snapshot's document when a run's fetch may stop on its bytes: not a dry run (it reads
 * and reports everything), and the same reading. Otherwise undefined (the document is read in full).
 * Only a whole-key fetch stops on it (the snapshot keeps no document of a fetch in method groups).
 */
export function knownDocumentOf(
  snapshot: AppliedSnapshot | null,
  run: { dryRun: boolean; reading: string },
): AppliedSnapshot['document'] {
  const document = snapshot?.document;
  if (!document || run.dryRun || document.reading !== run.reading) return undefined;
  return document;
}

/**
 * True when a fetch has exactly the data of the last applied snapshot: the same datasets present
 * with equal fingerprints and the same datasets absent. Then nothing needs publishing.
 */
export function isUnchanged(
  datasets: ReadonlyArray<Pick<RunDatasetStats, 'datasetId' | 'fingerprint'>>,
  absent: readonly DatasetId[],
  last: AppliedSnapshot | null,
): boolean {
  if (!last) return false;
  const lastIds = Object.keys(last.fingerprints);
  if (lastIds.length !== datasets.length) return false;
  if (datasets.some((d) => last.fingerprints[d.datasetId] !== d.fingerprint)) return false;
  const a = [...absent].sort();
  const b = [...last.absent].sort();
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The statuses a roster report is applied in: after `published` (an applied or failed run takes a later report too). */
export const REPORTED_STATUSES: readonly RunStatus[] = ['published', 'applying', 'held', 'applied', 'failed'];

/**
 * Whether the roster's report of `sequence` is applied to the run now: the connector has published
 * the run, and the run has not taken this report or a newer one. A report that comes before the run
 * says `published` is kept until it does (the roster can answer the marker before the connector has
 * recorded its send).
 */
export function takesRosterReport(
  run: { status: RunStatus; rosterSequence?: number | undefined },
  sequence: number,
): boolean {
  return REPORTED_STATUSES.includes(run.status) && (run.rosterSequence ?? -1) < sequence;
}
