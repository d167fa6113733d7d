import { serverStreaming, unary } from '@isams-sync/grpc';
import type { connectorV1, ServiceCallers } from '@isams-sync/grpc';
import { z } from 'zod';
import { ConnectorErrors } from '../../domain/connector-errors';
import type { RunStatus } from '../../domain/sync-run';
import type { RunsRepository } from '../../adapters/mongo/runs-repository';
import type { DataFreshnessRepository } from '../../adapters/mongo/data-freshness-repository';
import type { NotificationsRepository } from '../../adapters/mongo/notifications-repository';
import type { SettingsService } from '../../use-cases/settings-service';
import type { SyncEngine } from '../../use-cases/sync-engine';
import type { RunChanges } from './run-changes';
import { RunWatches } from './run-watches';
import { toRunProto, toSettingsProto } from './sync-run.mapper';
import { SYNC_RUN_STATUSES } from '@isams-sync/events';

const RUN_STATUSES = SYNC_RUN_STATUSES;
const MAX_PAGE = 100;
const DEFAULT_PAGE = 20;
/** Schools named in an error (its message and details travel in gRPC metadata, which is capped). */
const MAX_NAMED_SCHOOLS = 50;

function parse<T>(schema: z.ZodType<T>, value: unknown): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  throw ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({
    field: issue.path.join('.') || '(request)',
    reason: issue.message,
  });
}

const runIdSchema = z.object({ syncRunId: z.string().trim().min(1, 'is required').max(64) });
const listSchema = z.object({
  page: z.object({ pageSize: z.number().int().min(0).max(1000), pageToken: z.string() }).nullish(),
  statuses: z.array(z.enum(RUN_STATUSES)),
  triggerKind: z.union([z.literal(''), z.enum(['schedule', 'manual'])]),
});

/** A page token: the offset of the page's first run, in decimal, base64url without padding. */
const encodeToken = (offset: number): string => Buffer.from(String(offset)).toString('base64url');

/** The offset of a token {@link encodeToken} issued; any other spelling is refused, never read as 0. */
function decodeToken(token: string): number {
  if (token === '') return 0;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  const n = /^(0|[1-9][0-9]{0,15})$/.test(text) ? Number(text) : NaN;
  if (!Number.isSafeInteger(n) || encodeToken(n) !== token)
    throw ConnectorErrors.CONNECTOR_INVALID_ARGUMENT({
      field: 'page.pageToken',
      reason: 'is not a token from a previous page',
    });
  return n;
}

/**
 * Who may call the ConnectorService: the gateway (acting for one school per call); the
 * platform-wide RotateKeyEncryption only an operator (docs/security.md).
 */
export const CONNECTOR_CALLERS: ServiceCallers = {
  default: ['gateway'],
  methods: { RotateKeyEncryption: ['operator'] },
};

/** GetSyncStatus lists the e-mails of this many days. */
const NOTIFICATIONS_SHOWN_MS = 7 * 24 * 3_600_000;

export interface ConnectorHandlerDeps {
  settings: SettingsService;
  engine: SyncEngine;
  runs: RunsRepository;
  freshness: DataFreshnessRepository;
  notifications: NotificationsRepository;
  /** Wakes WatchSyncRun at this replica's writes of the run. */
  runChanges: RunChanges;
  /**
   * WatchSyncRun re-reads the run at least this often (another replica's writes) — once for all the
   * streams of the run in this process (`RunWatches`).
   */
  watchPollMs: number;
  /**
   * The gRPC server's `stopping`: WatchSyncRun streams end on it at once (`CONNECTOR_SHUTTING_DOWN`)
   * instead of holding the server's stop, and a stream asked for after it is refused so.
   */
  stopping: AbortSignal;
}

/** gRPC ConnectorService: translate, call the use cases, translate back. */
export function connectorHandlers(deps: ConnectorHandlerDeps): connectorV1.ConnectorServiceHandlers {
  const getRun = async (tenantId: string, syncRunId: string) => {
    const run = await deps.runs.get(tenantId, syncRunId);
    if (!run) throw ConnectorErrors.CONNECTOR_RUN_NOT_FOUND({ syncRunId });
    return run;
  };
  const watches = new RunWatches({
    runs: deps.runs,
    changes: deps.runChanges,
    pollMs: deps.watchPollMs,
    stopping: deps.stopping,
  });
  return {
    GetSettings: unary(async (_req, ctx) =>
      toSettingsProto(await deps.settings.get(ctx.tenantId), await deps.settings.fetchPlan(ctx.tenantId)),
    ),
    PutSettings: unary(async (req: connectorV1.PutSettingsRequest__Output, ctx) =>
      toSettingsProto(
        await deps.settings.put(
          ctx.tenantId,
          {
            isamsUrl: req.isamsUrl,
            ...(req.apiKey ? { apiKey: req.apiKey } : {}),
            format: req.format,
            scheduleMinutes: req.scheduleMinutes,
            enabled: req.enabled,
            timeZone: req.timeZone,
            notificationEmails: req.notificationEmails,
            expectedVersion: req.expectedVersion,
          },
          { actor: ctx.actor, requestId: ctx.requestId },
        ),
        await deps.settings.fetchPlan(ctx.tenantId),
      ),
    ),
    TestConnection: unary(async (req: connectorV1.TestConnectionRequest__Output, ctx) => {
      const r = await deps.settings.testConnection(
        ctx.tenantId,
        {
          ...(req.isamsUrl ? { isamsUrl: req.isamsUrl } : {}),
          ...(req.apiKey ? { apiKey: req.apiKey } : {}),
          ...(req.format ? { format: req.format } : {}),
        },
        ctx.signal,
      );
      return {
        ok: r.ok,
        datasets: r.datasets.map((d) => ({ ...d, recordCount: String(d.recordCount) })),
        missing: r.missing,
        durationMs: String(r.durationMs),
        bytes: String(r.bytes),
        ...(r.error ? { error: { ...r.error, adminAction: r.error.adminAction ?? '' } } : {}),
      };
    }),
    GetEgressInfo: unary(async () => deps.settings.egressInfo()),
    TriggerSync: unary(async (req: connectorV1.TriggerSyncRequest__Output, ctx) => {
      const { run, alreadyActive } = await deps.engine.trigger(
        ctx.tenantId,
        { kind: 'manual', ...(ctx.actor ? { actor: ctx.actor } : {}) },
        req.dryRun,
      );
      return { run: toRunProto(run), alreadyActive };
    }),
    GetSyncRun: unary(async (req, ctx) =>
      toRunProto(await getRun(ctx.tenantId, parse(runIdSchema, req).syncRunId)),
    ),
    ListSyncRuns: unary(async (req, ctx) => {
      const q = parse(listSchema, req);
      const limit = Math.min(MAX_PAGE, q.page?.pageSize || DEFAULT_PAGE);
      const offset = decodeToken(q.page?.pageToken ?? '');
      const { runs, total } = await deps.runs.list(ctx.tenantId, {
        statuses: q.statuses as RunStatus[],
        ...(q.triggerKind ? { triggerKind: q.triggerKind } : {}),
        offset,
        limit,
      });
      const next = offset + runs.length < total ? encodeToken(offset + runs.length) : '';
      return { runs: runs.map(toRunProto), page: { nextPageToken: next, totalSize: String(total) } };
    }),
    CancelSyncRun: unary(async (req, ctx) =>
      toRunProto(await deps.engine.cancel(ctx.tenantId, parse(runIdSchema, req).syncRunId)),
    ),
    WatchSyncRun: serverStreaming(async (req, ctx, send) => {
      const { syncRunId } = parse(runIdSchema, req);
      await watches.watch(ctx.tenantId, syncRunId, ctx.signal, (run) => send(toRunProto(run)));
    }),
    RotateKeyEncryption: unary(
      async () => {
        const r = await deps.settings.rotateKeyEncryption();
        // The response has no field for the keys left: a rotation that left any is refused,
        // naming the schools (the operator must not drop CONNECTOR_KEK_PREVIOUS yet).
        if (r.left > 0)
          throw ConnectorErrors.CONNECTOR_KEYS_LEFT_UNROTATED({
            reencrypted: r.reencrypted,
            alreadyCurrent: r.alreadyCurrent,
            left: r.left,
            skippedTenantIds: r.skipped.slice(0, MAX_NAMED_SCHOOLS).map((s) => s.tenantId),
          });
        return { reencrypted: r.reencrypted, alreadyCurrent: r.alreadyCurrent };
      },
      { tenantFree: true },
    ),
    GetSyncStatus: unary(async (_req, ctx) => {
      const [freshness, sent] = await Promise.all([
        deps.freshness.get(ctx.tenantId),
        deps.notifications.recent(ctx.tenantId, new Date(Date.now() - NOTIFICATIONS_SHOWN_MS)),
      ]);
      return {
        dataAsOf: freshness ? freshness.dataAsOf.toISOString() : '',
        dataAsOfRunId: freshness?.syncRunId ?? '',
        notifications: sent.map((n) => ({
          condition: n.condition,
          day: n.day,
          sentAt: n.sentAt ? n.sentAt.toISOString() : '',
          recipients: n.recipients,
          subject: n.subject,
        })),
      };
    }),
  };
}
