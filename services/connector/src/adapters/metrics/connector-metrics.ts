import { DATASETS, ISAMS_ERROR_CODES } from '@isams-sync/isams';
import { boundedLabel } from '@isams-sync/metrics';
import type { MetricConfig, Metrics, Sample } from '@isams-sync/metrics';
import { ConnectorErrors } from '../../domain/connector-errors';
import { summariseSyncAges } from '../../domain/data-freshness';
import type { SyncAgeSummary } from '../../domain/data-freshness';
import type { RunObserver } from '../../use-cases/sync-engine';

/** Error codes the connector's own catalogues can give a run (iSAMS client, connector). */
const OWN_CODES: ReadonlySet<string> = new Set([...ISAMS_ERROR_CODES, ...Object.keys(ConnectorErrors)]);
/** The shape of a roster catalogue code (a roster report's error); the roster's catalogue is finite. */
const ROSTER_CODE = /^ROSTER_[A-Z0-9]+(?:_[A-Z0-9]+)*$/;
const DATASET_IDS: ReadonlySet<string> = new Set(Object.keys(DATASETS));

/**
 * The `error_code` label of a finished run: `none` without an error; a code of the connector's
 * catalogues (`ISAMS_*`, `CONNECTOR_*`) or the shape of a roster catalogue code (≤ 64 characters) as
 * it is; anything else `other` — so the label's values stay bounded by the catalogues.
 */
export function runErrorCodeLabel(code: string | undefined): string {
  if (code === undefined) return 'none';
  if (OWN_CODES.has(code)) return code;
  return code.length <= 64 && ROSTER_CODE.test(code) ? code : 'other';
}

const FETCH_BUCKETS = [0.5, 1, 2.5, 5, 10, 20, 30, 60, 120, 300, 600, 1200];
const PUBLISH_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
/** 64 KiB … 1 GiB, ×4. */
const BYTE_BUCKETS = [
  65_536, 262_144, 1_048_576, 4_194_304, 16_777_216, 67_108_864, 268_435_456, 1_073_741_824,
];

/** The gauge of each figure of the schools' last good sync (one {@link SyncAgeSummary} field each). */
const SCHOOL_GAUGES: Record<keyof SyncAgeSummary, MetricConfig<string>> = {
  enabled: { name: 'connector_schools_enabled', help: 'Schools with syncing enabled' },
  neverSynced: {
    name: 'connector_schools_never_synced',
    help: 'Enabled schools without a good sync yet (applied, unchanged, or with only removals held)',
  },
  stale: {
    name: 'connector_schools_stale',
    help: 'Enabled schools whose last good sync is older than NOTIFY_STALE_AFTER_MS',
  },
  oldestAgeSeconds: {
    name: 'connector_school_last_good_sync_oldest_age_seconds',
    help: 'Seconds since the oldest last good sync of an enabled school (0 when none has one); which school is in the dashboard, never a label',
  },
};

/** The connector's own series (docs/deploy.md › Monitoring lists them). */
export function connectorMetrics(metrics: Metrics): {
  /** Counts a run that reached a final status (the `syncRunsHandler` hook). */
  runEnded(run: { status: string; errorCode: string | undefined }): void;
  /** The sync engine's observer: fetch and publish durations, document and dataset bytes. */
  observer: RunObserver;
  /** The schools' last good sync, all together (computed from the database by the sampler). */
  schoolsSample(opts: {
    dataAsOf: () => Promise<ReadonlyArray<Date | null>>;
    staleAfterMs: number;
    now?: () => Date;
  }): Sample;
} {
  const runsFinished = metrics.counter<'status' | 'error_code'>({
    name: 'connector_sync_runs_finished_total',
    help: 'Sync runs that reached a final status, by status and error code (none when there is no error; other outside the error catalogues)',
    labelNames: ['status', 'error_code'],
  });
  const fetchSeconds = metrics.histogram<'outcome'>({
    name: 'connector_fetch_duration_seconds',
    help: "Time to fetch a school's iSAMS document and stream-parse it into the spool (one pass), by outcome (ok; known: the last applied document byte for byte, downloaded but not parsed; failed)",
    labelNames: ['outcome'],
    buckets: FETCH_BUCKETS,
  });
  const publishSeconds = metrics.histogram({
    name: 'connector_publish_duration_seconds',
    help: "Time to publish a run's raw chunks and its run-complete marker",
    buckets: PUBLISH_BUCKETS,
  });
  const documentBytes = metrics.histogram({
    name: 'connector_document_bytes',
    help: 'Size of each fetched iSAMS document (bytes received; all method groups of a run together)',
    buckets: BYTE_BUCKETS,
  });
  const datasetBytes = metrics.counter<'dataset'>({
    name: 'connector_dataset_bytes_total',
    help: 'Bytes of the records of each dataset in fetched documents (canonical JSON), by dataset',
    labelNames: ['dataset'],
  });
  const schoolGauges = Object.entries(SCHOOL_GAUGES).map(
    ([field, config]) => [field as keyof SyncAgeSummary, metrics.gauge(config)] as const,
  );
  for (const outcome of ['ok', 'known', 'failed']) fetchSeconds.zero({ outcome });

  return {
    runEnded: (run) => runsFinished.inc({ status: run.status, error_code: runErrorCodeLabel(run.errorCode) }),
    observer: {
      fetched(f) {
        fetchSeconds.observe({ outcome: f.ok ? (f.known ? 'known' : 'ok') : 'failed' }, f.seconds);
        if (f.bytes !== undefined) documentBytes.observe(f.bytes);
        for (const d of f.datasets ?? [])
          datasetBytes.inc({ dataset: boundedLabel(d.datasetId, DATASET_IDS) }, d.bytes);
      },
      published: (p) => publishSeconds.observe(p.seconds),
    },
    schoolsSample: ({ dataAsOf, staleAfterMs, now = () => new Date() }) => ({
      name: 'schools-last-good-sync',
      async take() {
        const s = summariseSyncAges(await dataAsOf(), now(), staleAfterMs);
        for (const [field, gauge] of schoolGauges) gauge.set(s[field]);
      },
    }),
  };
}
