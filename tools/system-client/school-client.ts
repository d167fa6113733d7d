import { AdminApiClient } from '@isams-sync/testing';
import type { AdminSyncRun } from '@isams-sync/testing';

/**
 * The gateway's admin-API client (`AdminApiClient` of `@isams-sync/testing`) as the benchmarks, the
 * load test and the demo use it: a GET answered 429/502/503/504 (the services behind the gateway
 * busy, e.g. under a load test) is retried up to 6 times, 2 s apart; writes are never retried.
 */
export function schoolApiClient(gatewayUrl: string, schoolId: string, token: string): AdminApiClient {
  return new AdminApiClient(gatewayUrl, schoolId, token, { busyReads: { attempts: 6, delayMs: 2000 } });
}

/** Records and bytes of a run over all its datasets. */
export function runTotals(run: AdminSyncRun): { records: number; bytes: number; chunks: number } {
  return run.datasets.reduce(
    (t, d) => ({
      records: t.records + d.recordCount,
      bytes: t.bytes + d.bytes,
      chunks: t.chunks + d.chunkCount,
    }),
    { records: 0, bytes: 0, chunks: 0 },
  );
}

/** Changed entities (added, updated, removed, held: not `unchanged` nor `skipped`) in a run's roster counts. */
export function changedCount(run: AdminSyncRun): number {
  let n = 0;
  for (const counts of Object.values(run.rosterCounts ?? {}))
    for (const [kind, v] of Object.entries(counts))
      if (kind !== 'unchanged' && kind !== 'skipped' && typeof v === 'number') n += v;
  return n;
}

/**
 * A run's applied changes as a store of one document per entity writes them: the added inserted,
 * the updated and removed (kept, marked removed) replaced. Held changes are not written.
 */
export function writtenChanges(run: AdminSyncRun): { inserted: number; replaced: number } {
  let inserted = 0;
  let replaced = 0;
  for (const counts of Object.values(run.rosterCounts ?? {})) {
    inserted += counts.added ?? 0;
    replaced += (counts.updated ?? 0) + (counts.removed ?? 0);
  }
  return { inserted, replaced };
}
