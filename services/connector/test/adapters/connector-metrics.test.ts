import { describe, expect, it } from 'vitest';
import { createMetrics } from '@isams-sync/metrics';
import { connectorMetrics, runErrorCodeLabel } from '../../src/adapters/metrics/connector-metrics';
import { summariseSyncAges } from '../../src/domain/data-freshness';

const series = async (metrics: ReturnType<typeof createMetrics>, name: string) =>
  (await metrics.render())
    .split('\n')
    .filter((l) => l.startsWith(`${name}{`) || l.startsWith(`${name} `))
    .map((l) =>
      l
        .replace(/service="connector",?/, '')
        .replace(/,}/, '}')
        .replace(/\{\}/, ''),
    );

describe('runErrorCodeLabel: error codes of the catalogues, anything else other', () => {
  it('keeps iSAMS and connector catalogue codes and the shape of roster codes', () => {
    expect(runErrorCodeLabel(undefined)).toBe('none');
    expect(runErrorCodeLabel('ISAMS_INVALID_KEY')).toBe('ISAMS_INVALID_KEY');
    expect(runErrorCodeLabel('CONNECTOR_RUN_INTERRUPTED')).toBe('CONNECTOR_RUN_INTERRUPTED');
    expect(runErrorCodeLabel('ROSTER_SNAPSHOT_INCOMPLETE')).toBe('ROSTER_SNAPSHOT_INCOMPLETE');
  });
  it('turns unknown, free-text or oversized codes into other', () => {
    expect(runErrorCodeLabel('ISAMS_SOMETHING_NEW')).toBe('other');
    expect(runErrorCodeLabel('school 1234 failed')).toBe('other');
    expect(runErrorCodeLabel(`ROSTER_${'X'.repeat(70)}`)).toBe('other');
    expect(runErrorCodeLabel('roster_lowercase')).toBe('other');
  });
});

describe('summariseSyncAges', () => {
  const now = new Date('2026-12-03T12:00:00Z');
  const hoursAgo = (h: number) => new Date(now.getTime() - h * 3_600_000);
  it('counts enabled, never synced and stale schools and the oldest age, naming none', () => {
    expect(summariseSyncAges([hoursAgo(1), null, hoursAgo(30), hoursAgo(25)], now, 24 * 3_600_000)).toEqual({
      enabled: 4,
      neverSynced: 1,
      stale: 2,
      oldestAgeSeconds: 30 * 3600,
    });
  });
  it('is all zero without schools, and a clock behind the record never gives a negative age', () => {
    expect(summariseSyncAges([], now, 1000)).toEqual({
      enabled: 0,
      neverSynced: 0,
      stale: 0,
      oldestAgeSeconds: 0,
    });
    expect(summariseSyncAges([hoursAgo(-1)], now, 1000).oldestAgeSeconds).toBe(0);
  });
});

describe('connectorMetrics', () => {
  it('counts finished runs by status and bounded code; observes fetches, publishes and bytes by dataset', async () => {
    const metrics = createMetrics({ service: 'connector', collectDefault: false });
    const m = connectorMetrics(metrics);
    m.runEnded({ status: 'failed', errorCode: 'ISAMS_INVALID_KEY' });
    m.runEnded({ status: 'failed', errorCode: 'a free text from somewhere' });
    m.runEnded({ status: 'applied', errorCode: undefined });
    expect(await series(metrics, 'connector_sync_runs_finished_total')).toEqual([
      'connector_sync_runs_finished_total{status="failed",error_code="ISAMS_INVALID_KEY"} 1',
      'connector_sync_runs_finished_total{status="failed",error_code="other"} 1',
      'connector_sync_runs_finished_total{status="applied",error_code="none"} 1',
    ]);
    const stats = (datasetId: string, bytes: number) =>
      ({
        datasetId,
        bytes,
        present: true,
        recordCount: 1,
        chunkCount: 1,
        chunkRecords: [1],
        fingerprint: 'f',
      }) as never;
    m.observer.fetched({
      seconds: 3,
      ok: true,
      bytes: 2_000_000,
      datasets: [stats('currentStaff', 1500), stats('x', 7)],
    });
    m.observer.fetched({ seconds: 0.2, ok: false });
    m.observer.fetched({ seconds: 0.1, ok: true, known: true });
    m.observer.fetched({ seconds: 0.1, ok: true, known: true });
    m.observer.published({ seconds: 0.4 });
    expect(await series(metrics, 'connector_fetch_duration_seconds_count')).toEqual([
      'connector_fetch_duration_seconds_count{outcome="ok"} 1',
      'connector_fetch_duration_seconds_count{outcome="known"} 2',
      'connector_fetch_duration_seconds_count{outcome="failed"} 1',
    ]);
    expect(await series(metrics, 'connector_publish_duration_seconds_sum')).toEqual([
      'connector_publish_duration_seconds_sum 0.4',
    ]);
    expect(await series(metrics, 'connector_document_bytes_sum')).toEqual([
      'connector_document_bytes_sum 2000000',
    ]);
    expect(await series(metrics, 'connector_dataset_bytes_total')).toEqual([
      'connector_dataset_bytes_total{dataset="currentStaff"} 1500',
      'connector_dataset_bytes_total{dataset="other"} 7',
    ]);
  });

  it("keeps the schools' gauges from a sample", async () => {
    const metrics = createMetrics({ service: 'connector', collectDefault: false });
    const now = new Date('2026-12-03T12:00:00Z');
    const sample = connectorMetrics(metrics).schoolsSample({
      dataAsOf: async () => [new Date(now.getTime() - 90_000), null],
      staleAfterMs: 60_000,
      now: () => now,
    });
    await sample.take();
    const text = await metrics.render();
    expect(text).toContain('connector_schools_enabled{service="connector"} 2');
    expect(text).toContain('connector_schools_never_synced{service="connector"} 1');
    expect(text).toContain('connector_schools_stale{service="connector"} 1');
    expect(text).toContain('connector_school_last_good_sync_oldest_age_seconds{service="connector"} 90');
  });
});
