import { GrpcCallError, callMetadata, isServiceError, loadProtoPackage } from '@isams-sync/grpc';
import type { ConnectorServiceProtoGrpcType, connectorV1 } from '@isams-sync/grpc';
import type {
  DataSourceSettings,
  FetchPlan,
  RunError,
  NotificationRecord,
  SyncRun,
} from '../../domain/models/connector.models';
import type { ConnectorGateway } from '../../use-cases/ports';
import { isTerminalStatus } from '../../domain/sync-run-view';
import { callList, jsonObject, protoStrings } from './proto-json';
import { orNull, toNumber, upstreamCaller, upstreamClient, upstreamError } from './upstream-call';
import type { UpstreamOptions } from './upstream-call';

type ProtoSyncRun = connectorV1.SyncRun__Output;

function runError(e: connectorV1.RunError__Output | null | undefined): RunError | null {
  if (e === null || e === undefined || e.code === '') return null;
  return { code: e.code, message: e.message, adminAction: e.adminAction, transient: e.transient };
}

function fetchPlan(f: connectorV1.FetchPlan__Output | null | undefined): FetchPlan {
  return {
    mode: f?.mode === 'groups' ? 'groups' : 'whole',
    groups: (f?.groups ?? []).map((g) => ({
      datasetIds: g.datasetIds,
      status: orNull(g.status),
      requests: g.requests,
    })),
    contactsMethod: orNull(f?.contactsMethod),
    switchedBecause: orNull(f?.switchedBecause),
    switchedAt: orNull(f?.switchedAt),
  };
}

/** Proto DataSourceSettings → API settings (a connector that predates the time zone → Europe/London). */
export function toSettings(s: connectorV1.DataSourceSettings__Output): DataSourceSettings {
  return {
    configured: s.configured,
    isamsUrl: orNull(s.isamsUrl),
    keyLast4: orNull(s.keyLast4),
    format: s.format === 'json' ? 'json' : 'xml',
    scheduleMinutes: s.scheduleMinutes,
    enabled: s.enabled,
    nextRunAt: orNull(s.nextRunAt),
    updatedAt: orNull(s.updatedAt),
    updatedBy: orNull(s.updatedBy),
    keyUpdatedAt: orNull(s.keyUpdatedAt),
    fetchPlan: fetchPlan(s.fetchPlan),
    timeZone: s.timeZone || DEFAULT_TIME_ZONE,
    notificationEmails: s.notificationEmails ?? [],
    version: s.version,
  };
}

/** Maps a proto SyncRun to the API shape. */
export function toSyncRun(r: ProtoSyncRun): SyncRun {
  const p = r.progress;
  return {
    syncRunId: r.syncRunId,
    status: r.status,
    terminal: isTerminalStatus(r.status),
    trigger: { kind: r.trigger?.kind || 'manual', actor: orNull(r.trigger?.actor) },
    dryRun: r.dryRun,
    requestedAt: orNull(r.requestedAt),
    fetchStartedAt: orNull(r.fetchStartedAt),
    fetchedAt: orNull(r.fetchedAt),
    publishedAt: orNull(r.publishedAt),
    finishedAt: orNull(r.finishedAt),
    fetchDurationMs: toNumber(r.fetchDurationMs),
    publishDurationMs: toNumber(r.publishDurationMs),
    progress: {
      datasetsDone: p?.datasetsDone ?? 0,
      datasetsTotal: p?.datasetsTotal ?? 0,
      recordsFetched: toNumber(p?.recordsFetched),
      bytesFetched: toNumber(p?.bytesFetched),
      chunksPublished: p?.chunksPublished ?? 0,
      chunksTotal: p?.chunksTotal ?? 0,
      groupsDone: p?.groupsDone ?? 0,
      groupsTotal: p?.groupsTotal ?? 0,
    },
    fetch: r.fetch ? fetchPlan(r.fetch) : null,
    datasets: r.datasets.map((d) => ({
      datasetId: d.datasetId,
      adminName: d.adminName,
      present: d.present,
      recordCount: toNumber(d.recordCount),
      bytes: toNumber(d.bytes),
      chunkCount: d.chunkCount,
    })),
    absentDatasets: r.absentDatasets,
    error: runError(r.error),
    rosterStatus: orNull(r.rosterStatus),
    rosterCounts: jsonObject(r.rosterCountsJson),
    heldBatchId: orNull(r.heldBatchId),
    updatedAt: orNull(r.updatedAt),
  };
}

/** Options of {@link createConnectorGateway}. */
export interface ConnectorGatewayOptions extends UpstreamOptions {
  testConnectionDeadlineMs: number;
  /** How long one WatchSyncRun stream may stay open. */
  watchDeadlineMs?: number;
}

const UPSTREAM = 'connector';
/** The connector's default time zone (shown when it sends none). */
const DEFAULT_TIME_ZONE = 'Europe/London';

/** The gRPC implementation of {@link ConnectorGateway}. */
export function createConnectorGateway(options: ConnectorGatewayOptions): ConnectorGateway {
  const pkg = loadProtoPackage<ConnectorServiceProtoGrpcType>(
    'isams_sync/connector/v1/connector_service.proto',
    { protosDir: options.protosDir },
  );
  const service = pkg.isams_sync.connector.v1.ConnectorService;
  const client = upstreamClient(service, UPSTREAM, options, [
    'GetSettings',
    'GetEgressInfo',
    'GetSyncRun',
    'ListSyncRuns',
    'GetSyncStatus',
  ]);
  // Streams get their own channel: the service-config timeout of `client` would cut them short.
  const streamClient = upstreamClient(service, UPSTREAM, {
    ...options,
    deadlineMs: options.watchDeadlineMs ?? 30 * 60_000,
  });
  const call = upstreamCaller(UPSTREAM, client);

  return {
    getSettings: async (ctx) => toSettings(await call(client.getSettings, {}, ctx)),
    putSettings: async (ctx, input) =>
      toSettings(
        await call(
          client.putSettings,
          {
            isamsUrl: input.isamsUrl,
            apiKey: input.apiKey ?? '',
            format: input.format,
            scheduleMinutes: input.scheduleMinutes,
            enabled: input.enabled,
            timeZone: input.timeZone,
            notificationEmails: input.notificationEmails,
            expectedVersion: input.expectedVersion,
          },
          ctx,
        ),
      ),
    async getSyncStatus(ctx) {
      const r = await call(client.getSyncStatus, {}, ctx);
      return {
        dataAsOf: orNull(r.dataAsOf),
        dataAsOfRunId: orNull(r.dataAsOfRunId),
        notifications: r.notifications.map((n) => ({
          condition: n.condition as NotificationRecord['condition'],
          day: n.day,
          sentAt: orNull(n.sentAt),
          recipients: n.recipients,
          subject: n.subject,
        })),
      };
    },
    async testConnection(ctx, input) {
      const r = await call(
        client.testConnection,
        protoStrings(input, 'isamsUrl', 'apiKey', 'format'),
        ctx,
        options.testConnectionDeadlineMs,
      );
      return {
        ok: r.ok,
        datasets: r.datasets.map((d) => ({
          datasetId: d.datasetId,
          adminName: d.adminName,
          present: d.present,
          recordCount: toNumber(d.recordCount),
        })),
        missing: r.missing,
        durationMs: toNumber(r.durationMs),
        bytes: toNumber(r.bytes),
        error: runError(r.error),
      };
    },
    async getEgressInfo(ctx) {
      const r = await call(client.getEgressInfo, {}, ctx);
      return {
        egressIps: r.egressIps,
        integratorProperties: r.integratorProperties,
        instructions: r.instructions,
        datasets: r.datasets ?? [],
      };
    },
    async triggerSync(ctx, input) {
      const r = await call(client.triggerSync, { dryRun: input.dryRun }, ctx);
      if (r.run === null) throw new Error('TriggerSync returned no run');
      return { run: toSyncRun(r.run), alreadyActive: r.alreadyActive };
    },
    getSyncRun: async (ctx, syncRunId) => toSyncRun(await call(client.getSyncRun, { syncRunId }, ctx)),
    listSyncRuns: (ctx, input) =>
      callList(
        call,
        client.listSyncRuns,
        ctx,
        input,
        { statuses: input.statuses ?? [], triggerKind: input.trigger ?? '' },
        { key: 'runs', map: toSyncRun },
      ),
    cancelSyncRun: async (ctx, syncRunId) => toSyncRun(await call(client.cancelSyncRun, { syncRunId }, ctx)),
    async *watchSyncRun(ctx, syncRunId) {
      const stream = streamClient.watchSyncRun(
        { syncRunId },
        callMetadata({ tenantId: ctx.tenantId, requestId: ctx.requestId, actor: ctx.actor }),
      );
      const onAbort = () => stream.cancel();
      ctx.signal?.addEventListener('abort', onAbort, { once: true });
      try {
        for await (const run of stream as AsyncIterable<ProtoSyncRun>) yield toSyncRun(run);
      } catch (err) {
        throw upstreamError(isServiceError(err) ? new GrpcCallError(err, 'WatchSyncRun') : err, UPSTREAM);
      } finally {
        ctx.signal?.removeEventListener('abort', onAbort);
        stream.cancel();
      }
    },
    close: () => {
      client.close();
      streamClient.close();
    },
  };
}
