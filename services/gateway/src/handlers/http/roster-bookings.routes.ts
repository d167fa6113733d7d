import { ENTITY_ID_MAX_CHARS } from '@isams-sync/events';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BookingsGateway } from '../../use-cases/ports';
import type { RosterGateway } from '../../use-cases/ports';
import type { AuditLog } from '../../adapters/mongo/audit-log.repository';
import {
  bookingPageSchema,
  eventPageSchema,
  eveningsSchema,
  removalImpactSchema,
  runUndoWithBookingsSchema,
} from '../../domain/models/bookings.models';
import {
  changePageSchema,
  decideBodySchema,
  entityPageSchema,
  entitySchema,
  entityTypeSchema,
  findingPageSchema,
  heldBatchDetailSchema,
  heldBatchListSchema,
  heldBatchSchema,
  rosterRunSchema,
} from '../../domain/models/roster.models';
import { dryRunImpact, heldBatchImpact } from '../../use-cases/removal-impact';
import { runUndoWithBookings } from '../../use-cases/run-undo';
import { auditComment, auditedAs } from './audit';
import { callContext, writeContext } from './auth';
import { queryPaging, runParams, schoolIdParam, schoolRoute } from './route-schemas';

/** Dependencies of the roster, held-batch and bookings routes. */
export interface RosterBookingsRoutesOptions {
  roster: RosterGateway;
  bookings: BookingsGateway;
  auditLog: AuditLog;
}

const paging = {
  pageSize: z.coerce.number().int().min(1).max(200).default(50),
  pageToken: z.string().max(512).optional(),
};
const opt = <K extends string>(key: K, v: string | undefined) =>
  v === undefined || v === '' ? {} : { [key]: v };
/** The query of a list filtered by status: one of `statuses` (optional) and the page. */
const byStatusQuery = <const S extends readonly [string, ...string[]]>(statuses: S) =>
  z.object({ status: z.enum(statuses).optional(), ...paging });
/** A {@link byStatusQuery} as the gateways take it: the page, and the status when one is given. */
const byStatusPaging = (q: {
  status?: string | undefined;
  pageSize: number;
  pageToken?: string | undefined;
}) => ({
  ...queryPaging(q),
  ...opt('status', q.status),
});
const batchParams = schoolIdParam.extend({ batchId: z.string().min(1).max(128) });

type RouteApp = Parameters<FastifyPluginAsyncZod<RosterBookingsRoutesOptions>>[0];

/** Roster browsing, run changes/findings, held batches (impact, approve, discard), events and bookings. */
export const rosterBookingsRoutes: FastifyPluginAsyncZod<RosterBookingsRoutesOptions> = async (app, opts) => {
  rosterRoutes(app, opts);
  heldBatchRoutes(app, opts);
  bookingRoutes(app, opts);
  runUndoRoutes(app, opts);
};

/** The roster (browse, search, one entity) and a run's roster view, changes, findings and dry-run impact. */
function rosterRoutes(app: RouteApp, { roster, bookings }: RosterBookingsRoutesOptions): void {
  app.get(
    '/api/v1/schools/:schoolId/roster/:entityType',
    schoolRoute(['roster'], 'Browse and search the roster (staff, pupils, sets, …)', {
      params: schoolIdParam.extend({ entityType: entityTypeSchema }),
      querystring: z.object({
        q: z.string().max(200).optional().describe('Case-insensitive search over names, codes, ids, e-mails'),
        status: z.enum(['active', 'removed', 'all']).default('active'),
        ...paging,
      }),
      response: { 200: entityPageSchema },
    }),
    async (request, reply) => {
      const q = request.query;
      return roster.listEntities(callContext(request, reply), {
        entityType: request.params.entityType,
        status: q.status,
        ...queryPaging(q),
        ...opt('query', q.q),
      });
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/roster/:entityType/:entityId',
    schoolRoute(['roster'], 'One roster entity (also removed ones)', {
      params: schoolIdParam.extend({
        entityType: entityTypeSchema,
        entityId: z.string().min(1).max(ENTITY_ID_MAX_CHARS),
      }),
      response: { 200: entitySchema },
    }),
    async (request, reply) =>
      roster.getEntity(callContext(request, reply), request.params.entityType, request.params.entityId),
  );

  app.get(
    '/api/v1/schools/:schoolId/sync-runs/:syncRunId/roster',
    schoolRoute(
      ['sync runs'],
      "The roster's processing of a run: state, outcome, counts per entity and change",
      {
        params: runParams,
        response: { 200: rosterRunSchema },
      },
    ),
    async (request, reply) => roster.getRun(callContext(request, reply), request.params.syncRunId),
  );

  app.get(
    '/api/v1/schools/:schoolId/sync-runs/:syncRunId/changes',
    schoolRoute(['sync runs'], "A run's changeset (for a dry run: what would change)", {
      params: runParams,
      querystring: z.object({
        entityType: entityTypeSchema.optional(),
        change: z.enum(['added', 'updated', 'removed', 'restored']).optional(),
        disposition: z.enum(['apply', 'held', 'discarded']).optional(),
        ...paging,
      }),
      response: { 200: changePageSchema },
    }),
    async (request, reply) => {
      const q = request.query;
      return roster.listRunChanges(callContext(request, reply), {
        syncRunId: request.params.syncRunId,
        ...queryPaging(q),
        ...opt('entityType', q.entityType),
        ...opt('change', q.change),
        ...opt('disposition', q.disposition),
      });
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/sync-runs/:syncRunId/findings',
    schoolRoute(['sync runs'], 'Data-quality findings of a run (stable rule codes)', {
      params: runParams,
      querystring: z.object({ code: z.string().max(100).optional(), ...paging }),
      response: { 200: findingPageSchema },
    }),
    async (request, reply) =>
      roster.listRunFindings(callContext(request, reply), {
        syncRunId: request.params.syncRunId,
        ...queryPaging(request.query),
        ...opt('code', request.query.code),
      }),
  );

  app.get(
    '/api/v1/schools/:schoolId/sync-runs/:syncRunId/impact',
    schoolRoute(['sync runs'], "Booking impact of a dry run's removals", {
      params: runParams,
      response: { 200: removalImpactSchema },
    }),
    async (request, reply) =>
      dryRunImpact(roster, bookings, callContext(request, reply), request.params.syncRunId),
  );
}

/** Held batches: list, detail, booking impact, approve and discard. */
function heldBatchRoutes(app: RouteApp, { roster, bookings, auditLog }: RosterBookingsRoutesOptions): void {
  app.get(
    '/api/v1/schools/:schoolId/held-batches',
    schoolRoute(['held batches'], 'Held removal batches, newest first', {
      params: schoolIdParam,
      querystring: byStatusQuery(['pending', 'approved', 'discarded', 'superseded']),
      response: { 200: heldBatchListSchema },
    }),
    async (request, reply) =>
      roster.listHeldBatches(callContext(request, reply), byStatusPaging(request.query)),
  );

  app.get(
    '/api/v1/schools/:schoolId/held-batches/:batchId',
    schoolRoute(['held batches'], 'A held batch with its records (searchable)', {
      params: batchParams,
      querystring: z.object({
        entityType: entityTypeSchema.optional(),
        q: z.string().max(200).optional(),
        ...paging,
      }),
      response: { 200: heldBatchDetailSchema },
    }),
    async (request, reply) =>
      roster.getHeldBatch(callContext(request, reply), {
        batchId: request.params.batchId,
        ...queryPaging(request.query),
        ...opt('entityType', request.query.entityType),
        ...opt('query', request.query.q),
      }),
  );

  app.get(
    '/api/v1/schools/:schoolId/held-batches/:batchId/impact',
    schoolRoute(
      ['held batches'],
      'Booking impact of approving: bookings cancelled per event, families affected',
      {
        params: batchParams,
        response: { 200: removalImpactSchema },
      },
    ),
    async (request, reply) =>
      heldBatchImpact(roster, bookings, callContext(request, reply), request.params.batchId),
  );

  for (const decision of ['approve', 'discard'] as const) {
    app.post(
      `/api/v1/schools/:schoolId/held-batches/:batchId/${decision}`,
      schoolRoute(
        ['held batches'],
        decision === 'approve'
          ? 'Approve once: the held removals (of the version shown) are applied (their bookings are cancelled)'
          : 'Discard: nothing is removed, and the same removals are not held again until those people’s data changes',
        {
          params: batchParams,
          body: decideBodySchema.nullish(),
          response: { 200: heldBatchSchema },
        },
      ),
      async (request) => {
        const ctx = writeContext(request);
        const comment = request.body?.comment ?? '';
        const version = request.body?.version;
        return auditedAs(
          auditLog,
          request,
          ctx,
          `held-batch.${decision}`,
          {
            batchId: request.params.batchId,
            ...(version === undefined ? {} : { version }),
            ...auditComment(comment),
          },
          () =>
            decision === 'approve'
              ? roster.approveHeldBatch(ctx, request.params.batchId, comment, version)
              : roster.discardHeldBatch(ctx, request.params.batchId, comment, version),
        );
      },
    );
  }
}

/** Events, live evenings and their bookings. */
function bookingRoutes(app: RouteApp, { bookings }: RosterBookingsRoutesOptions): void {
  app.get(
    '/api/v1/schools/:schoolId/events',
    schoolRoute(['bookings'], "The school's bookable events (parents' evenings, clubs)", {
      params: schoolIdParam,
      querystring: byStatusQuery(['draft', 'open', 'live', 'finished']),
      response: { 200: eventPageSchema },
    }),
    async (request, reply) => bookings.listEvents(callContext(request, reply), byStatusPaging(request.query)),
  );

  app.get(
    '/api/v1/schools/:schoolId/evenings',
    schoolRoute(
      ['bookings'],
      'Live evenings (marked live, or open today in the school’s time zone) and the cancellations they hold',
      {
        description:
          'A removal that would cancel a booking in a live evening is held (pending cancellation), whatever triggered the run. When the evening ends (set to finished, or its day passes in the school’s time zone) what is still held is cancelled; a person who comes back releases theirs.',
        params: schoolIdParam,
        response: { 200: eveningsSchema },
      },
    ),
    async (request, reply) => bookings.listEvenings(callContext(request, reply)),
  );

  app.get(
    '/api/v1/schools/:schoolId/events/:eventId/bookings',
    schoolRoute(['bookings'], 'Bookings of one event (with cancellations and their reasons)', {
      params: schoolIdParam.extend({ eventId: z.string().min(1).max(64) }),
      querystring: byStatusQuery(['booked', 'cancelled']),
      response: { 200: bookingPageSchema },
    }),
    async (request, reply) =>
      bookings.listEventBookings(callContext(request, reply), {
        eventId: request.params.eventId,
        ...byStatusPaging(request.query),
      }),
  );
}

/** Undo a run: the preview with bookings, then the undo itself. */
function runUndoRoutes(app: RouteApp, { roster, bookings, auditLog }: RosterBookingsRoutesOptions): void {
  app.get(
    '/api/v1/schools/:schoolId/sync-runs/:syncRunId/undo',
    schoolRoute(['runs'], 'Undo a run, first look: whom undoing restores and which bookings come back', {
      description:
        'Before the undo: everyone (and everything) the run removed that undoing restores now, what cannot be restored and why, and for each booking the run’s removals cancelled whether it would be reinstated (the slot still free, the event not finished) or why not. After the undo: what it restored and the bookings reinstated or not, with the reason.',
      params: runParams,
      response: { 200: runUndoWithBookingsSchema },
    }),
    async (request, reply) => {
      const ctx = callContext(request, reply);
      return runUndoWithBookings(bookings, ctx, await roster.previewRunUndo(ctx, request.params.syncRunId));
    },
  );

  app.post(
    '/api/v1/schools/:schoolId/sync-runs/:syncRunId/undo',
    schoolRoute(['runs'], 'Undo a run: restore everyone it removed (within the grace period)', {
      description:
        'Restores every entity the run removed that is still removed by it, within the removal grace period (14 days by default; then 409 ROSTER_UNDO_EXPIRED). The roster publishes `restored` events; bookings reinstates the cancelled bookings whose slot is still free and reports the others. Undoing twice is undoing once. Audited (`sync-run.undo`).',
      params: runParams,
      body: decideBodySchema.nullish(),
      response: { 200: runUndoWithBookingsSchema },
    }),
    async (request) => {
      const ctx = writeContext(request);
      const comment = request.body?.comment ?? '';
      const undo = await auditedAs(
        auditLog,
        request,
        ctx,
        'sync-run.undo',
        { syncRunId: request.params.syncRunId, ...auditComment(comment) },
        () => roster.undoRun(ctx, request.params.syncRunId, comment),
      );
      return runUndoWithBookings(bookings, ctx, undo);
    },
  );
}
