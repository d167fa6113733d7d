import { isAppError, toPublicError } from '@isams-sync/errors';
import type { AppError } from '@isams-sync/errors';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { ConnectorGateway } from '../../use-cases/ports';
import type { AuditLog } from '../../adapters/mongo/audit-log.repository';
import type { DataSourceSettings, PutSettingsBody } from '../../domain/models/connector.models';
import {
  dataSourceSettingsSchema,
  egressInfoSchema,
  listRunsQuerySchema,
  notificationRecordSchema,
  putSettingsBodySchema,
  syncRunPageSchema,
  syncRunSchema,
  testConnectionBodySchema,
  testConnectionResultSchema,
  triggerSyncBodySchema,
  triggerSyncResultSchema,
} from '../../domain/models/connector.models';
import { buildOverview } from '../../domain/sync-run-view';
import { settingsToSave } from '../../domain/settings-update';
import { auditedAs } from './audit';
import { callContext, writeContext } from './auth';
import { queryPaging, runParams, schoolIdParam, schoolRoute } from './route-schemas';
import type { LiveEventCheck } from '../../domain/live-events';
import { bearerCredential } from '../../domain/admin-token';
import { credentialKey } from '../../domain/token-crypto';
import { GatewayErrors } from '../../domain/gateway-errors';
import { parseRequest } from '../../domain/validation-issues';
import type { CallContext } from '../../domain/principal';
import type { StreamRegistry } from '../../domain/stream-registry';

/** Dependencies of the data-source and sync-run routes. */
export interface ConnectorRoutesOptions {
  connector: ConnectorGateway;
  auditLog: AuditLog;
  expensivePerMinute: number;
  /** When set, a sync is refused until confirmed while the school has a live event. */
  liveEvents?: LiveEventCheck;
  /** Open live-progress streams, capped per credential, per school and overall. */
  streams: StreamRegistry;
  streamLimits: { maxLifetimeMs: number; reverifyMs: number };
  /** Verifies the stream's credential again (revoked or expired → throws). */
  reverify: (credential: string) => Promise<unknown>;
  /** Where a saved `timeZone` also goes (bookings: what "an evening open today" means for the school). */
  schoolTimeZone?: (ctx: CallContext, timeZone: string) => Promise<void>;
}

/** Scheme, host and port of an address (what the connector binds the stored key to). */
function originOf(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return new URL(url).origin;
  } catch {
    return undefined;
  }
}

const overviewSchema = z.object({
  settings: dataSourceSettingsSchema,
  activeRun: syncRunSchema.nullable(),
  lastRun: syncRunSchema.nullable(),
  lastSuccessfulRun: syncRunSchema.nullable(),
  nextRunAt: z.string().nullable(),
  dataAsOf: z
    .string()
    .nullable()
    .describe(
      'When the data now in SchoolCloud was fetched from iSAMS (the last applied, unchanged, or removals-held run); null before the first',
    ),
  notifications: z.array(notificationRecordSchema).describe('E-mails sent in the last 7 days, newest first'),
  isamsCacheNote: z.string(),
  heldRunIds: z
    .array(z.string())
    .describe(
      'Real runs whose held changes await a decision (not those approved, discarded or superseded since)',
    ),
});

type RouteApp = Parameters<FastifyPluginAsyncZod<ConnectorRoutesOptions>>[0];
const tags = ['data source'];
const runTags = ['sync runs'];
/** The rate limit of the routes that make the connector call iSAMS (per credential and minute). */
const expensiveLimit = (opts: ConnectorRoutesOptions) => ({
  rateLimit: { max: opts.expensivePerMinute, timeWindow: 60_000 },
});

/** Settings, connection test, egress info, runs (trigger, list, detail, cancel), overview. */
export const connectorRoutes: FastifyPluginAsyncZod<ConnectorRoutesOptions> = async (app, opts) => {
  dataSourceRoutes(app, opts);
  syncRunRoutes(app, opts);
  syncRunEventsRoute(app, opts);
};

/** The overview, data-source settings, the connection test and the egress addresses. */
function dataSourceRoutes(app: RouteApp, opts: ConnectorRoutesOptions): void {
  const { connector, auditLog } = opts;
  const expensive = expensiveLimit(opts);
  app.get(
    '/api/v1/schools/:schoolId/overview',
    schoolRoute(runTags, 'Dashboard summary: settings, active/last run, next run, data freshness', {
      params: schoolIdParam,
      response: { 200: overviewSchema },
    }),
    async (request, reply) => {
      const ctx = callContext(request, reply);
      const [settings, runs, status] = await Promise.all([
        connector.getSettings(ctx),
        connector.listSyncRuns(ctx, { pageSize: 20 }),
        connector.getSyncStatus(ctx),
      ]);
      return buildOverview(settings, runs.runs, status);
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/settings',
    schoolRoute(tags, 'The data-source settings (the key only as its last 4 characters)', {
      params: schoolIdParam,
      response: { 200: dataSourceSettingsSchema },
    }),
    async (request, reply) => connector.getSettings(callContext(request, reply)),
  );

  app.put(
    '/api/v1/schools/:schoolId/settings',
    schoolRoute(
      tags,
      'Save the data-source settings; fields left out keep their stored values; the key is write-only',
      {
        description:
          'Send the `version` the settings were loaded at: settings saved since (another admin, another tab) → 409 `CONNECTOR_SETTINGS_CHANGED` and nothing changes (reload, then save again). Without it the fields sent are laid over the settings as stored at that moment, never undoing a save sent at the same moment. The stored key is bound to the host of the iSAMS address it was entered for: a new host (scheme, host or port) without `apiKey` is refused with 400 `CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS` and nothing changes. A `timeZone` is checked by the connector with the other fields and, once saved, given to bookings; if bookings does not take it, 503 `GATEWAY_TIME_ZONE_NOT_APPLIED`: the settings are saved, and the same save sent again passes the zone on. Every other successful save passes the stored zone on too, without failing for it. Audited (`settings.update`, with `previousOrigin`, `newOrigin` and `hostChanged`).',
        params: schoolIdParam,
        body: putSettingsBodySchema,
        response: { 200: dataSourceSettingsSchema },
      },
    ),
    async (request) => {
      const ctx = writeContext(request);
      // For the admin's audit log; the connector decides (and records the change in its own audit).
      const previous = await connector.getSettings(ctx).catch(() => undefined);
      const previousOrigin = originOf(previous?.isamsUrl);
      const newAddress = request.body.isamsUrl ?? previous?.isamsUrl ?? '';
      const newOrigin = originOf(newAddress) ?? newAddress;
      return auditedAs(
        auditLog,
        request,
        ctx,
        'settings.update',
        {
          keyChanged: request.body.apiKey !== undefined,
          fields: Object.keys(request.body).sort().join(','),
          ...(request.body.enabled === undefined ? {} : { enabled: request.body.enabled }),
          ...(request.body.version === undefined ? {} : { version: request.body.version }),
          ...(previousOrigin === undefined ? {} : { previousOrigin }),
          newOrigin,
          hostChanged: previousOrigin !== undefined && previousOrigin !== newOrigin,
        },
        async () => {
          // The connector first: it validates every field, the zone included, so a refused save
          // changes nothing anywhere. Bookings then gets the zone as the connector stored it.
          const saved = await saveSettings(connector, ctx, request.body, previous);
          if (request.body.timeZone !== undefined) await passOnTimeZone(opts, ctx, saved.timeZone);
          else
            await passOnTimeZone(opts, ctx, saved.timeZone).catch((err: unknown) =>
              warnNotPassedOn(request, err),
            );
          return saved;
        },
      );
    },
  );

  app.post(
    '/api/v1/schools/:schoolId/settings/test',
    {
      config: expensive,
      ...schoolRoute(
        tags,
        'Test the connection: which of the 14 datasets the key returns, counts, errors explained',
        {
          description:
            "Uses the body values when given, else the stored settings. Publishes nothing. The stored key is only ever sent to the stored address's host: another `isamsUrl` host without `apiKey` → 400 `CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS`. One test per school at a time (409 `CONNECTOR_TEST_ALREADY_RUNNING`) and a few per connector replica (429 `CONNECTOR_TEST_CAPACITY_EXHAUSTED` with `Retry-After`). A stored key that does not decrypt for the stored address → 409 `CONNECTOR_KEY_DECRYPT_FAILED` (enter the key again).",
          params: schoolIdParam,
          body: testConnectionBodySchema.nullish(),
          response: { 200: testConnectionResultSchema },
        },
      ),
    },
    async (request, reply) => connector.testConnection(callContext(request, reply), request.body ?? {}),
  );

  app.get(
    '/api/v1/schools/:schoolId/egress',
    schoolRoute(tags, 'Static egress IPs to allow-list and Integrator Properties to enter in iSAMS', {
      params: schoolIdParam,
      response: { 200: egressInfoSchema },
    }),
    async (request, reply) => connector.getEgressInfo(callContext(request, reply)),
  );
}

/** How often a save without a version is laid over the settings again when another save got in first. */
const UNVERSIONED_SAVE_ATTEMPTS = 3;

/**
 * Saves `body` over the stored settings (read as `loaded`, else now), as the connector's next
 * version. A save that names the version its page was loaded at is refused once the settings were
 * saved since (409 `CONNECTOR_SETTINGS_CHANGED`: the admin reloads). One without a version means
 * "these fields over whatever is stored": when another save got in between this read and this
 * write, it is laid over the new settings again (a few times, then refused the same way), so it
 * never puts back what the other changed.
 */
async function saveSettings(
  connector: ConnectorGateway,
  ctx: CallContext,
  body: PutSettingsBody,
  loaded: DataSourceSettings | undefined,
): Promise<DataSourceSettings> {
  for (let attempt = 1; ; attempt++) {
    const current = (attempt === 1 ? loaded : undefined) ?? (await connector.getSettings(ctx));
    try {
      return await connector.putSettings(ctx, settingsToSave(current, body));
    } catch (err) {
      const overtaken = isAppError(err) && err.code === 'CONNECTOR_SETTINGS_CHANGED';
      if (!overtaken || body.version !== undefined || attempt >= UNVERSIONED_SAVE_ATTEMPTS) throw err;
    }
  }
}

/**
 * Gives bookings the school's saved time zone. Its failure fails a save that sets the zone with
 * `GATEWAY_TIME_ZONE_NOT_APPLIED` although the connector kept the settings: the same save sent again
 * stores the same settings and passes the zone on (docs/admin-api.md › PUT settings). Every other
 * save passes the stored zone on too, without failing for it, so any later save (a reloaded dashboard
 * sends only what changed) brings bookings in line.
 */
async function passOnTimeZone(
  opts: ConnectorRoutesOptions,
  ctx: CallContext,
  timeZone: string,
): Promise<void> {
  try {
    await opts.schoolTimeZone?.(ctx, timeZone);
  } catch (err) {
    throw GatewayErrors.GATEWAY_TIME_ZONE_NOT_APPLIED(
      { upstream: 'bookings', upstreamCode: isAppError(err) ? err.code : 'INTERNAL' },
      { cause: err },
    );
  }
}

function warnNotPassedOn(request: FastifyRequest, err: unknown): void {
  request.log.warn({ err }, 'stored time zone not passed on to bookings; the next settings save tries again');
}

/** Sync runs: trigger, list, detail and cancel. */
function syncRunRoutes(app: RouteApp, opts: ConnectorRoutesOptions): void {
  const { connector, auditLog } = opts;
  const expensive = expensiveLimit(opts);
  app.post(
    '/api/v1/schools/:schoolId/sync-runs',
    {
      config: expensive,
      ...schoolRoute(runTags, 'Run a sync now (optionally as a dry run)', {
        description:
          'While the school has a live event, a real run is refused with 409 GATEWAY_LIVE_EVENT_CONFIRMATION_REQUIRED until confirmLiveEvents is true: bookings of removed teachers or students will be cancelled.',
        params: schoolIdParam,
        body: triggerSyncBodySchema.nullish(),
        response: { 202: triggerSyncResultSchema },
      }),
    },
    async (request, reply) => {
      const ctx = writeContext(request);
      const body = parseRequest(triggerSyncBodySchema, request.body ?? {}, 'body');
      if (!body.dryRun && !body.confirmLiveEvents && opts.liveEvents !== undefined) {
        await opts.liveEvents.assertNoneLive(ctx);
      }
      const result = await auditedAs(auditLog, request, ctx, 'sync.trigger', { dryRun: body.dryRun }, () =>
        connector.triggerSync(ctx, { dryRun: body.dryRun }),
      );
      return reply.code(202).send(result);
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/sync-runs',
    schoolRoute(runTags, 'Run history, newest first', {
      params: schoolIdParam,
      querystring: listRunsQuerySchema,
      response: { 200: syncRunPageSchema },
    }),
    async (request, reply) => {
      const q = request.query;
      return connector.listSyncRuns(callContext(request, reply), {
        ...queryPaging(q),
        ...(q.status === undefined ? {} : { statuses: q.status.split(',') }),
        ...(q.trigger === undefined ? {} : { trigger: q.trigger }),
      });
    },
  );

  app.get(
    '/api/v1/schools/:schoolId/sync-runs/:syncRunId',
    schoolRoute(
      runTags,
      'One run: live progress per dataset, counts per entity and change, errors with what to do',
      {
        params: runParams,
        response: { 200: syncRunSchema },
      },
    ),
    async (request, reply) => connector.getSyncRun(callContext(request, reply), request.params.syncRunId),
  );

  app.post(
    '/api/v1/schools/:schoolId/sync-runs/:syncRunId/cancel',
    schoolRoute(runTags, 'Cancel a run that has not started fetching yet', {
      params: runParams,
      response: { 200: syncRunSchema },
    }),
    async (request) => {
      const ctx = writeContext(request);
      return auditedAs(auditLog, request, ctx, 'sync.cancel', { syncRunId: request.params.syncRunId }, () =>
        connector.cancelSyncRun(ctx, request.params.syncRunId),
      );
    },
  );
}

/** A run's live progress as server-sent events. */
function syncRunEventsRoute(app: RouteApp, opts: ConnectorRoutesOptions): void {
  const { connector } = opts;
  app.get(
    '/api/v1/schools/:schoolId/sync-runs/:syncRunId/events',
    schoolRoute(runTags, 'Live progress as Server-Sent Events', {
      description:
        'text/event-stream: `event: run` with a SyncRun (JSON) now and on every change, `event: end` when the run is terminal, `event: error` with `{ code, message }` if the stream fails, reaches its maximum lifetime (`GATEWAY_STREAM_EXPIRED`), its credential is revoked or expires (`GATEWAY_TOKEN_INVALID`) or the gateway replica stops (`GATEWAY_SHUTTING_DOWN`: open it again). Unknown runs are a plain 404; too many open streams a 429 `GATEWAY_STREAM_LIMIT`.',
      params: runParams,
      response: {
        200: {
          description: 'The event stream (`event: run|end|error`, `data:` JSON, `: keep-alive` comments)',
          // The schema of one event: its name and its `data:` line (JSON of a SyncRun, {} or { code, message }).
          content: {
            'text/event-stream': {
              schema: z.object({ event: z.enum(['run', 'end', 'error']), data: z.string() }),
            },
          },
        },
      },
    }),
    async (request, reply) => {
      const ctx = callContext(request, reply);
      // A plain HTTP error (404 …) for a bad id before the response turns into a stream.
      await connector.getSyncRun(ctx, request.params.syncRunId);
      let ended: AppError | undefined;
      const stopper = new AbortController();
      const stop = (reason: AppError) => {
        ended ??= reason;
        stopper.abort();
      };
      const credential = bearerCredential(request.headers.authorization) ?? '';
      const lease = opts.streams.open(
        { tenantId: ctx.tenantId, actor: ctx.actor, credential: credentialKey(credential) },
        (reason) =>
          stop(
            reason === 'shutdown'
              ? GatewayErrors.GATEWAY_SHUTTING_DOWN()
              : GatewayErrors.GATEWAY_TOKEN_INVALID(),
          ),
      );
      if (lease === 'shutdown') throw GatewayErrors.GATEWAY_SHUTTING_DOWN();
      if (typeof lease === 'string') throw GatewayErrors.GATEWAY_STREAM_LIMIT({ limit: lease });
      const streamCtx = {
        ...ctx,
        signal: ctx.signal === undefined ? stopper.signal : AbortSignal.any([ctx.signal, stopper.signal]),
      };
      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...(reply.getHeaders() as Record<string, string>),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-store',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      const send = (event: string, data: unknown) => {
        // The client may have gone; its disconnect also cancels the upstream stream.
        if (!raw.destroyed && !raw.writableEnded)
          raw.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
      };
      const heartbeat = setInterval(() => {
        if (!raw.destroyed) raw.write(': keep-alive\n\n');
      }, 15_000);
      const lifetime = setTimeout(
        () => stop(GatewayErrors.GATEWAY_STREAM_EXPIRED()),
        opts.streamLimits.maxLifetimeMs,
      );
      // Revocations on this replica end the stream at once (registry); elsewhere (another replica,
      // the CLI) or an expiry is noticed at the next re-check.
      const recheck = setInterval(() => {
        opts.reverify(credential).catch((err: unknown) => {
          if (GatewayErrors.GATEWAY_TOKEN_INVALID.is(err)) stop(err);
        });
      }, opts.streamLimits.reverifyMs);
      try {
        for await (const run of connector.watchSyncRun(streamCtx, request.params.syncRunId)) {
          if (ended !== undefined) break;
          send('run', run);
          if (run.terminal) break;
        }
        if (ended === undefined) send('end', {});
      } catch (err) {
        if (ended === undefined && !ctx.signal?.aborted) request.log.warn({ err }, 'run event stream failed');
        if (ended === undefined) {
          const pub = toPublicError(err);
          send('error', { code: pub.code, message: pub.message });
        }
      } finally {
        clearInterval(heartbeat);
        clearInterval(recheck);
        clearTimeout(lifetime);
        lease.release();
        if (ended !== undefined) send('error', { code: ended.code, message: ended.message });
        if (!raw.destroyed) raw.end();
      }
    },
  );
}
