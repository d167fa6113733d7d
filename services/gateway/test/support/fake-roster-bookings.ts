import { AppError } from '@isams-sync/errors';
import type { BookingsGateway } from '../../src/adapters/grpc-clients/bookings.gateway';
import type { RosterGateway } from '../../src/adapters/grpc-clients/roster.gateway';
import type { BookableEvent, PersonRef, ReinstatementLine } from '../../src/domain/models/bookings.models';
import type { Change, HeldBatch, RunUndo } from '../../src/domain/models/roster.models';
import type { CallContext } from '../../src/domain/principal';

const EMPTY_PAGE = { nextPageToken: null, totalSize: null };

function removal(entityType: string, entityId: string, seq: number): Change {
  return {
    seq,
    entityType,
    entityId,
    change: 'removed',
    disposition: 'held',
    before: { id: entityId },
    after: null,
    changedFields: [],
    removalReason: 'absent_from_feed',
  };
}

/** In-process fakes of the RosterGateway and BookingsGateway interfaces (HTTP-translation tests). */
export function createFakeRosterBookings() {
  const calls: Array<{ method: string; tenantId: string; input?: unknown }> = [];
  const batch: HeldBatch = {
    batchId: 'batch-1',
    syncRunId: 'run-9',
    status: 'pending',
    createdAt: '2026-11-01T10:00:00.000Z',
    types: [{ entityType: 'pupil', count: 3, reason: 'threshold' }],
    total: 3,
    decidedBy: null,
    decidedAt: null,
    comment: null,
    kind: 'removals',
    reason: 'Removals held for review: 3 of 20 pupils would be removed (more than 10 % and more than 5).',
  };
  // Three pages of one record each, one duplicate person and one non-person entity.
  const records = [
    removal('pupil', 'p1', 1),
    removal('pupil', 'p2', 2),
    removal('pupil', 'p1', 3),
    removal('form', 'f1', 4),
  ];
  const state = {
    live: [] as BookableEvent[],
    previewed: [] as PersonRef[][],
    batch,
    timeZone: 'Europe/London',
    undo: {
      syncRunId: 'run-9',
      status: 'possible',
      restore: [
        { entityType: 'pupil', entityId: 'p1' },
        { entityType: 'contact', entityId: 'c1' },
        { entityType: 'setMembership', entityId: 'sm1' },
      ],
      skipped: [{ reason: 'active_again', count: 1 }],
      expiresAt: '2026-11-15T10:00:00.000Z',
      undoneBy: null,
      undoneAt: null,
      comment: null,
    } as RunUndo,
    reinstatements: [] as ReinstatementLine[],
  };
  const notFoundRun = (syncRunId: string) =>
    new AppError({
      code: 'ROSTER_RUN_NOT_FOUND',
      kind: 'not_found',
      message: `No sync run ${syncRunId} is known to the roster`,
    });
  const notFound = () =>
    new AppError({ code: 'ROSTER_HELD_BATCH_NOT_FOUND', kind: 'not_found', message: 'Held batch not found' });
  const rec = (method: string, ctx: CallContext, input?: unknown) =>
    calls.push({ method, tenantId: ctx.tenantId, input });

  const roster: RosterGateway = {
    async listEntities(ctx, input) {
      rec('listEntities', ctx, input);
      return {
        entities: [
          {
            entityType: input.entityType,
            entityId: 's1',
            status: 'active',
            data: { id: 's1', surname: 'Smith' },
            lastSyncRunId: 'run-1',
            changedAt: null,
            removedAt: null,
            graceUntil: null,
            removalReason: null,
          },
        ],
        page: EMPTY_PAGE,
      };
    },
    async getEntity(ctx, entityType, entityId) {
      rec('getEntity', ctx);
      return {
        entityType,
        entityId,
        status: 'active',
        data: {},
        lastSyncRunId: null,
        changedAt: null,
        removedAt: null,
        graceUntil: null,
        removalReason: null,
      };
    },
    async getRun(ctx, syncRunId) {
      rec('getRun', ctx);
      const held = state.batch.syncRunId === syncRunId;
      return {
        syncRunId,
        state: 'done',
        dryRun: false,
        outcome: held ? 'held' : 'applied',
        receivedAt: null,
        processedAt: null,
        completedAt: null,
        counts: [
          { entityType: 'pupil', added: 1, updated: 2, removed: 0, restored: 0, held: 0, unchanged: 297 },
        ],
        heldBatchId: held ? state.batch.batchId : null,
        errorCode: null,
        errorMessage: null,
        changeCount: 3,
        findingCount: 0,
        holdKind: held ? state.batch.kind : null,
        holdReason: held ? state.batch.reason : null,
      };
    },
    async listRunChanges(ctx, input) {
      rec('listRunChanges', ctx, input);
      return { changes: records.slice(0, 2), page: EMPTY_PAGE };
    },
    async listRunFindings(ctx, input) {
      rec('listRunFindings', ctx, input);
      return {
        findings: [
          {
            code: 'PUPIL_NO_YEAR_GROUP',
            severity: 'warning',
            datasetId: 'currentPupils',
            recordId: 'p9',
            field: 'NCYear',
            ref: '',
            message: 'Pupil has no year group',
          },
        ],
        page: EMPTY_PAGE,
      };
    },
    async listHeldBatches(ctx, input) {
      rec('listHeldBatches', ctx, input);
      return { batches: [state.batch], page: EMPTY_PAGE };
    },
    async getHeldBatch(ctx, input) {
      rec('getHeldBatch', ctx, input);
      if (input.batchId !== state.batch.batchId || ctx.tenantId !== 'school-a') throw notFound();
      const index = input.pageToken === undefined ? 0 : Number(input.pageToken);
      const next = index + 1 < records.length ? String(index + 1) : null;
      return {
        batch: state.batch,
        records: records.slice(index, index + 1),
        page: { nextPageToken: next, totalSize: records.length },
      };
    },
    async approveHeldBatch(ctx, batchId, comment) {
      rec('approveHeldBatch', ctx, { batchId, comment });
      if (batchId !== state.batch.batchId || ctx.tenantId !== 'school-a') throw notFound();
      state.batch = { ...state.batch, status: 'approved', decidedBy: ctx.actor, comment };
      return state.batch;
    },
    async discardHeldBatch(ctx, batchId, comment) {
      rec('discardHeldBatch', ctx, { batchId, comment });
      if (state.batch.status !== 'pending')
        throw new AppError({
          code: 'ROSTER_HELD_BATCH_DECIDED',
          kind: 'failed_precondition',
          message: 'Already decided',
        });
      state.batch = { ...state.batch, status: 'discarded' };
      return state.batch;
    },
    async previewRunUndo(ctx, syncRunId) {
      rec('previewRunUndo', ctx, { syncRunId });
      if (syncRunId !== state.undo.syncRunId) throw notFoundRun(syncRunId);
      return state.undo;
    },
    async undoRun(ctx, syncRunId, comment) {
      rec('undoRun', ctx, { syncRunId, comment });
      if (syncRunId !== state.undo.syncRunId) throw notFoundRun(syncRunId);
      if (state.undo.status === 'possible')
        state.undo = {
          ...state.undo,
          status: 'undone',
          undoneBy: ctx.actor ?? null,
          undoneAt: '2026-11-02T10:00:00.000Z',
          comment,
        };
      return state.undo;
    },
    close() {},
  };

  const bookings: BookingsGateway = {
    async listEvents(ctx, input) {
      rec('listEvents', ctx, input);
      return { events: input.status === 'live' ? state.live : state.live, page: EMPTY_PAGE };
    },
    async listEventBookings(ctx, input) {
      rec('listEventBookings', ctx, input);
      return { bookings: [], page: EMPTY_PAGE };
    },
    async previewRemovalImpact(ctx, input) {
      rec('previewRemovalImpact', ctx, input);
      state.previewed.push(input.removals);
      return {
        events: [],
        totalBookingsToCancel: input.removals.length * 2,
        totalBookingsToHold: 0,
        familiesAffected: input.removals.length,
      };
    },
    async runReinstatementReport(ctx, input) {
      rec('runReinstatementReport', ctx, input);
      return state.reinstatements;
    },
    async setSchoolTimeZone(ctx, timeZone) {
      rec('setSchoolTimeZone', ctx, { timeZone });
      if (!timeZone.includes('/'))
        throw new AppError({
          code: 'BOOKINGS_TIME_ZONE_UNKNOWN',
          kind: 'invalid_argument',
          message: `"${timeZone}" is not a time zone: give an IANA name such as Europe/London`,
        });
      state.timeZone = timeZone;
    },
    async listEvenings(ctx) {
      rec('listEvenings', ctx);
      return {
        timeZone: state.timeZone,
        evenings: state.live.map((event) => ({
          event,
          state: 'live' as const,
          pending: [],
          familiesAffected: 0,
        })),
      };
    },
    close() {},
  };
  return { roster, bookings, calls, state };
}
