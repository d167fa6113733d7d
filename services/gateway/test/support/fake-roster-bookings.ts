import { status as grpcStatus } from '@grpc/grpc-js';
import { AppError } from '@isams-sync/errors';
import type { BookingsGateway } from '../../src/use-cases/ports';
import type { RosterGateway } from '../../src/use-cases/ports';
import type {
  BookableEvent,
  Booking,
  PersonRef,
  ReinstatementLine,
} from '../../src/domain/models/bookings.models';
import type { Change, HeldBatch, RemovalThresholds, RunUndo } from '../../src/domain/models/roster.models';
import type { CallContext } from '../../src/domain/principal';
import { receivedFrom } from './upstream-errors';

const EMPTY_PAGE = { nextPageToken: null, totalSize: null };
/** The roster's own default (services/roster DEFAULT_THRESHOLDS). */
const DEFAULT_THRESHOLDS: RemovalThresholds = { default: { percent: 10, min: 5 }, byType: [] };

function removal(
  entityType: string,
  entityId: string,
  seq: number,
  disposition: Change['disposition'] = 'held',
): Change {
  return {
    seq,
    entityType,
    entityId,
    change: 'removed',
    disposition,
    before: { id: entityId },
    after: null,
    changedFields: [],
    removalReason: 'absent_from_feed',
  };
}

type Recorder = (method: string, ctx: CallContext, input?: unknown) => void;
type FakeState = ReturnType<typeof initialState>;

/** What the fakes share and tests steer: the held batch, live evenings, the undo of run-9, ... */
function initialState() {
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
    version: 1,
    updatedAt: '2026-11-01T10:00:00.000Z',
    lastSyncRunId: 'run-9',
    approvalState: null,
  };
  return {
    live: [] as BookableEvent[],
    previewed: [] as PersonRef[][],
    batch,
    dryRun: false,
    /** Pupils a dry run would add besides the four changes every run lists (a long change list). */
    moreAdded: 0,
    /** A page token whose next request of a run's changes fails once (the roster unreachable). */
    failChangesPage: undefined as string | undefined,
    timeZone: 'Europe/London',
    /** Thrown once by the next SetSchoolTimeZone (e.g. bookings unreachable). */
    timeZoneFailure: undefined as AppError | undefined,
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
    /**
     * The school's events, when a test sets them (else `live` is listed): paged as bookings pages
     * (`pageSize` at a time, the token the next one's offset, `totalSize`), filtered by `status`.
     */
    events: undefined as BookableEvent[] | undefined,
    /** How many bookings each event has, booked and cancelled (booked first), paged and filtered like events. */
    bookingCounts: {} as Record<string, { booked: number; cancelled: number }>,
    /** Bookings pages answer without `totalSize` (as a service that does not count would). */
    bookingsWithoutTotals: false,
  };
}

/** One page of `items` as the bookings service pages: `pageSize` from the offset in `pageToken`. */
function pageOf<T>(items: T[], input: { pageSize?: number; pageToken?: string }, withTotal = true) {
  const from = input.pageToken === undefined ? 0 : Number(input.pageToken);
  const size = input.pageSize ?? 50;
  const next = from + size < items.length ? String(from + size) : null;
  return {
    items: items.slice(from, from + size),
    page: { nextPageToken: next, totalSize: withTotal ? items.length : null },
  };
}

/** The bookings of an event as `state.bookingCounts` describes them. */
function fakeEventBookings(state: FakeState, eventId: string): Booking[] {
  const counts = state.bookingCounts[eventId] ?? { booked: 0, cancelled: 0 };
  return Array.from({ length: counts.booked + counts.cancelled }, (_, i) => ({
    id: `${eventId}-b${i}`,
    eventId,
    slotId: `${eventId}-s${i}`,
    staffId: null,
    pupilId: `p${i}`,
    contactId: null,
    startsAt: null,
    endsAt: null,
    status: i < counts.booked ? 'booked' : 'cancelled',
    pendingCancellation: false,
    cancellation: null,
  }));
}

/** The roster's read side: entities, a run, its changes and findings. */
function fakeRosterReads(
  state: FakeState,
  rec: Recorder,
): Pick<RosterGateway, 'listEntities' | 'getEntity' | 'getRun' | 'listRunChanges' | 'listRunFindings'> {
  // A run's change list: one removal applied, one held for an admin, one an earlier discard keeps, one addition.
  const runChanges: Change[] = [
    { ...removal('pupil', 'p7', 1, 'apply'), removalReason: 'absent_from_feed' },
    removal('pupil', 'p8', 2, 'held'),
    removal('pupil', 'p9', 3, 'discarded'),
    { ...removal('pupil', 'p10', 0, 'apply'), change: 'added', before: null, after: { id: 'p10' } },
  ];
  return {
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
        dryRun: state.dryRun,
        outcome: held ? 'held' : 'applied',
        receivedAt: null,
        processedAt: null,
        completedAt: null,
        counts: [
          {
            entityType: 'pupil',
            added: 1,
            updated: 2,
            removed: 0,
            restored: 0,
            held: 0,
            unchanged: 297,
            skipped: 3,
          },
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
      if (state.failChangesPage !== undefined && input.pageToken === state.failChangesPage) {
        state.failChangesPage = undefined;
        throw new AppError({
          code: 'ROSTER_UNAVAILABLE',
          kind: 'unavailable',
          message: 'roster unreachable',
        });
      }
      const added = Array.from({ length: state.moreAdded }, (_, i): Change => {
        const id = `n${i + 1}`;
        return { ...removal('pupil', id, 10 + i, 'apply'), change: 'added', before: null, after: { id } };
      });
      const changes = [...runChanges, ...added].filter(
        (c) =>
          (input.change === undefined || c.change === input.change) &&
          (input.disposition === undefined || c.disposition === input.disposition),
      );
      // Paged as the roster pages: `pageSize` at a time, the token the next one's offset.
      const from = input.pageToken === undefined ? 0 : Number(input.pageToken);
      const size = input.pageSize ?? changes.length;
      const next = from + size < changes.length ? String(from + size) : null;
      return {
        changes: changes.slice(from, from + size),
        page: { nextPageToken: next, totalSize: changes.length },
      };
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
  };
}

/** The held batch of run-9 (school-a's only): listed, paged through, approved or discarded. */
function fakeHeldBatches(
  state: FakeState,
  rec: Recorder,
): Pick<RosterGateway, 'listHeldBatches' | 'getHeldBatch' | 'approveHeldBatch' | 'discardHeldBatch'> {
  // Three pages of one record each, one duplicate person and one non-person entity.
  const records = [
    removal('pupil', 'p1', 1),
    removal('pupil', 'p2', 2),
    removal('pupil', 'p1', 3),
    removal('form', 'f1', 4),
  ];
  const notFound = () =>
    new AppError({ code: 'ROSTER_HELD_BATCH_NOT_FOUND', kind: 'not_found', message: 'Held batch not found' });
  return {
    async listHeldBatches(ctx, input) {
      rec('listHeldBatches', ctx, input);
      const { status } = input as { status?: string };
      return {
        batches: status === undefined || status === state.batch.status ? [state.batch] : [],
        page: EMPTY_PAGE,
      };
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
    async approveHeldBatch(ctx, batchId, comment, version) {
      rec('approveHeldBatch', ctx, { batchId, comment, version });
      if (batchId !== state.batch.batchId || ctx.tenantId !== 'school-a') throw notFound();
      if (version !== undefined && version !== state.batch.version)
        throw new AppError({
          code: 'ROSTER_HELD_BATCH_CHANGED',
          kind: 'failed_precondition',
          message: `Held batch ${batchId} changed since it was shown`,
        });
      state.batch = {
        ...state.batch,
        status: 'approved',
        decidedBy: ctx.actor,
        comment,
        approvalState: 'applying',
      };
      return state.batch;
    },
    async discardHeldBatch(ctx, batchId, comment, version) {
      rec('discardHeldBatch', ctx, { batchId, comment, version });
      if (state.batch.status !== 'pending')
        throw new AppError({
          code: 'ROSTER_HELD_BATCH_DECIDED',
          kind: 'failed_precondition',
          message: 'Already decided',
        });
      state.batch = { ...state.batch, status: 'discarded' };
      return state.batch;
    },
  };
}

/** Each school's removal thresholds, the roster's defaults until set. */
function fakeRemovalThresholds(
  rec: Recorder,
): Pick<RosterGateway, 'getRemovalThresholds' | 'setRemovalThresholds'> {
  const thresholds = new Map<string, RemovalThresholds>();
  return {
    async getRemovalThresholds(ctx) {
      rec('getRemovalThresholds', ctx);
      return thresholds.get(ctx.tenantId) ?? DEFAULT_THRESHOLDS;
    },
    async setRemovalThresholds(ctx, t) {
      rec('setRemovalThresholds', ctx, t);
      thresholds.set(ctx.tenantId, t);
      return t;
    },
  };
}

/** The undo of run-9: previewed, then done once (a second undo returns the undone state). */
function fakeRunUndo(state: FakeState, rec: Recorder): Pick<RosterGateway, 'previewRunUndo' | 'undoRun'> {
  const notFoundRun = (syncRunId: string) =>
    new AppError({
      code: 'ROSTER_RUN_NOT_FOUND',
      kind: 'not_found',
      message: `No sync run ${syncRunId} is known to the roster`,
    });
  return {
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
  };
}

function fakeBookings(state: FakeState, rec: Recorder): BookingsGateway {
  return {
    async listEvents(ctx, input) {
      rec('listEvents', ctx, input);
      if (state.events === undefined) return { events: state.live, page: EMPTY_PAGE };
      const { status } = input;
      const { items, page } = pageOf(
        state.events.filter((e) => status === undefined || e.status === status),
        input,
      );
      return { events: items, page };
    },
    async listEventBookings(ctx, input) {
      rec('listEventBookings', ctx, input);
      const { status } = input;
      const { items, page } = pageOf(
        fakeEventBookings(state, input.eventId).filter((b) => status === undefined || b.status === status),
        input,
        !state.bookingsWithoutTotals,
      );
      return { bookings: items, page };
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
      const failure = state.timeZoneFailure;
      state.timeZoneFailure = undefined;
      if (failure !== undefined) throw failure;
      if (!timeZone.includes('/'))
        throw receivedFrom(
          'bookings',
          grpcStatus.INVALID_ARGUMENT,
          'BOOKINGS_TIME_ZONE_UNKNOWN',
          `"${timeZone}" is not a time zone: give an IANA name such as Europe/London`,
          { timeZone },
        );
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
}

/** In-process fakes of the RosterGateway and BookingsGateway interfaces (HTTP-translation tests). */
export function createFakeRosterBookings() {
  const calls: Array<{ method: string; tenantId: string; input?: unknown }> = [];
  const state = initialState();
  const rec: Recorder = (method, ctx, input) => {
    calls.push({ method, tenantId: ctx.tenantId, input });
  };
  const roster: RosterGateway = {
    ...fakeRosterReads(state, rec),
    ...fakeHeldBatches(state, rec),
    ...fakeRemovalThresholds(rec),
    ...fakeRunUndo(state, rec),
    close() {},
  };
  const bookings = fakeBookings(state, rec);
  return { roster, bookings, calls, state };
}
