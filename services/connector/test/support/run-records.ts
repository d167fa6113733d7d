import type { RunRecord } from '../../src/domain/run-record';
import { EMPTY_PROGRESS } from '../../src/domain/sync-run';

/** A run record as the engine stores it — a manual, non-dry JSON run `published` at `at` — with `overrides` on top. */
export function runRecord(
  tenantId: string,
  id: string,
  at: Date,
  overrides: Partial<RunRecord> = {},
): RunRecord {
  return {
    _id: id,
    tenantId,
    status: 'published',
    trigger: { kind: 'manual', actor: `admin@${tenantId}` },
    dryRun: false,
    requestedAt: at,
    progress: { ...EMPTY_PROGRESS },
    datasets: [],
    absent: [],
    unknownContainers: [],
    findings: [],
    sourceFormat: 'json',
    sequence: 3,
    updatedAt: at,
    ...overrides,
  };
}

/** A run whose marker was sent at `at`: `fetched`, its marker attempt recorded, its step to `published` not yet. */
export function runAtMarker(tenantId: string, id: string, at: Date = new Date()): RunRecord {
  return runRecord(tenantId, id, at, { status: 'fetched', fetchedAt: at, markerAttemptedAt: at });
}
