import { defineErrors } from '@isams-sync/errors';

/**
 * How a sync run was found fetched before one already applied (`ROSTER_RUN_SUPERSEDED`): by the
 * connector's per-school fetch numbers (`fetchSequence`), or — when either run has none — by the fetch
 * times (the fetching connector replicas' clocks).
 */
export type FetchOrder =
  | { by: 'sequence'; fetchSequence: number; newerFetchSequence: number }
  | { by: 'time'; fetchedAt: string; newerFetchedAt: string };

/** The roster service's error catalogue. */
export const RosterErrors = defineErrors({
  ROSTER_ENTITY_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { entityType: string; entityId: string }) => `No ${d.entityType} with id ${d.entityId}`,
  },
  ROSTER_RUN_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { syncRunId: string }) => `No sync run ${d.syncRunId} is known to the roster`,
  },
  ROSTER_HELD_BATCH_NOT_FOUND: {
    kind: 'not_found',
    message: (d: { batchId: string }) => `No held batch ${d.batchId}`,
  },
  ROSTER_UNDO_NOT_POSSIBLE: {
    kind: 'failed_precondition',
    message: (d: { syncRunId: string; why: string }) => `Sync run ${d.syncRunId} cannot be undone: ${d.why}`,
  },
  ROSTER_UNDO_EXPIRED: {
    kind: 'failed_precondition',
    message: (d: { syncRunId: string; expiredAt: string }) =>
      `Sync run ${d.syncRunId} can no longer be undone: its grace period ended at ${d.expiredAt} and the people it removed are being purged`,
  },
  ROSTER_HELD_BATCH_NOT_PENDING: {
    kind: 'failed_precondition',
    message: (d: { batchId: string; status: string }) =>
      `Held batch ${d.batchId} is ${d.status}, not pending`,
  },
  ROSTER_HELD_BATCH_CHANGED: {
    kind: 'failed_precondition',
    message: (d: { batchId: string; seen: number; current: number }) =>
      `Held batch ${d.batchId} changed since it was shown (version ${d.seen}, now ${d.current}: a later run added or dropped people); nothing was decided — review it again`,
  },
  ROSTER_SNAPSHOT_INCOMPLETE: {
    kind: 'failed_precondition',
    message: (d: { syncRunId: string }) =>
      `The snapshot of run ${d.syncRunId} is not complete (chunks missing)`,
  },
  ROSTER_SNAPSHOT_INCONSISTENT: {
    kind: 'invalid_argument',
    message: (d: { syncRunId: string; datasetId: string }) =>
      `Chunks of dataset ${d.datasetId} in run ${d.syncRunId} disagree with the run-complete marker`,
  },
  ROSTER_RUN_SUPERSEDED: {
    kind: 'failed_precondition',
    message: (d: { syncRunId: string } & FetchOrder) =>
      d.by === 'sequence'
        ? `Run ${d.syncRunId} was not applied: a run of this school fetched after it (fetch #${d.newerFetchSequence}; this run #${d.fetchSequence}) was applied first, and applying the older document would undo it`
        : `Run ${d.syncRunId} (fetched ${d.fetchedAt}) was not applied: a run of this school fetched after it (at ${d.newerFetchedAt}; with no fetch number on one of them, their fetch times decided) was applied first, and applying the older document would undo it`,
  },
  ROSTER_RUN_TIMED_OUT: {
    kind: 'deadline_exceeded',
    message: (d: { syncRunId: string }) =>
      `Run ${d.syncRunId}: its chunks did not all arrive before the timeout`,
  },
  ROSTER_INVALID_ARGUMENT: {
    kind: 'invalid_argument',
    message: (d: { field: string; problem: string }) => `${d.field}: ${d.problem}`,
  },
  ROSTER_TENANT_BUSY: {
    kind: 'unavailable',
    message: (d: { waitedMs: number }) =>
      `Another replica is processing this school (waited ${d.waitedMs} ms); retry shortly`,
  },
  ROSTER_TENANT_LEASE_LOST: {
    kind: 'unavailable',
    message: 'The lease on this school was lost (not renewed in time); another replica continues',
  },
  ROSTER_CRASH_INJECTED: {
    kind: 'internal',
    message: (d: { step: string }) => `Injected crash at ${d.step}`,
  },
});
