import { loadProtoPackage } from '@isams-sync/grpc';
import type { RosterServiceProtoGrpcType, rosterV1 } from '@isams-sync/grpc';
import type {
  Change,
  FindingPage,
  HeldBatch,
  RemovalThresholds,
  RosterEntity,
  RosterRun,
  RunUndo,
} from '../../domain/models/roster.models';
import { isEntityType } from '../../domain/models/roster.models';
import type { RosterGateway } from '../../use-cases/ports';
import { callList, callPage, jsonObject, protoStrings } from './proto-json';
import { orNull, orNulls, upstreamCaller, upstreamClient } from './upstream-call';
import type { UpstreamCaller, UpstreamOptions } from './upstream-call';

/** Proto RemovalThresholds → API thresholds (types the gateway does not know are left out). */
export function toThresholds(t: rosterV1.RemovalThresholds__Output): RemovalThresholds {
  const byType: RemovalThresholds['byType'] = [];
  for (const b of t.byType) {
    if (b.threshold !== null && isEntityType(b.entityType))
      byType.push({ entityType: b.entityType, percent: b.threshold.percent, min: b.threshold.min });
  }
  return {
    default: { percent: t.defaultThreshold?.percent ?? 0, min: t.defaultThreshold?.min ?? 0 },
    byType,
  };
}

function toRunUndo(u: rosterV1.RunUndo__Output): RunUndo {
  return {
    syncRunId: u.syncRunId,
    status: u.status === 'undone' || u.status === 'undoing' ? u.status : 'possible',
    restore: u.restore.map((r) => ({ entityType: r.entityType, entityId: r.entityId })),
    skipped: u.skipped.map((s) => ({ reason: s.reason, count: s.count })),
    ...orNulls(u, 'expiresAt', 'undoneBy', 'undoneAt', 'comment'),
  };
}

function entity(e: rosterV1.Entity__Output): RosterEntity {
  return {
    entityType: e.entityType,
    entityId: e.entityId,
    status: e.status,
    data: jsonObject(e.dataJson),
    ...orNulls(e, 'lastSyncRunId', 'changedAt', 'removedAt', 'graceUntil', 'removalReason'),
  };
}

/** Proto Change → API change. */
export function toChange(c: rosterV1.Change__Output): Change {
  return {
    seq: c.seq,
    entityType: c.entityType,
    entityId: c.entityId,
    change: c.change,
    disposition: c.disposition,
    before: jsonObject(c.beforeJson),
    after: jsonObject(c.afterJson),
    changedFields: c.changedFields,
    removalReason: orNull(c.removalReason),
  };
}

/** Proto HeldBatch → API held batch (a batch without a kind is a removal batch). */
const APPROVAL_STATES = new Set<string>(['applying', 'applied', 'failed']);
type ApprovalState = NonNullable<HeldBatch['approvalState']>;

export function toHeldBatch(b: rosterV1.HeldBatch__Output): HeldBatch {
  return {
    batchId: b.batchId,
    syncRunId: b.syncRunId,
    status: b.status,
    types: b.types.map((t) => ({ entityType: t.entityType, count: t.count, reason: t.reason })),
    total: b.total,
    ...orNulls(b, 'createdAt', 'decidedBy', 'decidedAt', 'comment', 'reason'),
    kind: b.kind || 'removals',
    version: b.version || 1,
    updatedAt: orNull(b.updatedAt) ?? orNull(b.createdAt),
    lastSyncRunId: b.lastSyncRunId || b.syncRunId,
    approvalState: APPROVAL_STATES.has(b.approvalState) ? (b.approvalState as ApprovalState) : null,
  };
}

/** Proto Run → API run. */
function toRun(r: rosterV1.Run__Output): RosterRun {
  return {
    syncRunId: r.syncRunId,
    state: r.state,
    dryRun: r.dryRun,
    ...orNulls(r, 'outcome', 'receivedAt', 'processedAt', 'completedAt'),
    counts: r.counts.map((c) => ({
      entityType: c.entityType,
      added: c.added,
      updated: c.updated,
      removed: c.removed,
      restored: c.restored,
      held: c.held,
      unchanged: c.unchanged,
      skipped: c.skipped,
    })),
    changeCount: r.changeCount,
    findingCount: r.findingCount,
    ...orNulls(r, 'heldBatchId', 'errorCode', 'errorMessage', 'holdKind', 'holdReason'),
  };
}

function toFinding(f: rosterV1.Finding__Output): FindingPage['findings'][number] {
  return {
    code: f.code,
    severity: f.severity,
    datasetId: f.datasetId,
    recordId: f.recordId,
    field: f.field,
    ref: f.ref,
    message: f.message,
  };
}

const UPSTREAM = 'roster';

/** What each group of methods below shares: the generated client and its one `call` helper. */
interface RosterUpstream {
  readonly client: rosterV1.RosterServiceClient;
  readonly call: UpstreamCaller;
}

/** The gRPC implementation of {@link RosterGateway}. */
export function createRosterGateway(options: UpstreamOptions): RosterGateway {
  const pkg = loadProtoPackage<RosterServiceProtoGrpcType>('isams_sync/roster/v1/roster_service.proto', {
    protosDir: options.protosDir,
  });
  const client = upstreamClient(pkg.isams_sync.roster.v1.RosterService, UPSTREAM, options, [
    'ListEntities',
    'GetEntity',
    'GetRun',
    'ListRunChanges',
    'ListRunFindings',
    'ListHeldBatches',
    'GetHeldBatch',
    'GetRemovalThresholds',
  ]);
  const upstream: RosterUpstream = { client, call: upstreamCaller(UPSTREAM, client) };
  return {
    ...entityMethods(upstream),
    ...runMethods(upstream),
    ...heldBatchMethods(upstream),
    ...thresholdMethods(upstream),
    ...undoMethods(upstream),
    close: () => client.close(),
  };
}

function entityMethods({ client, call }: RosterUpstream): Pick<RosterGateway, 'listEntities' | 'getEntity'> {
  return {
    listEntities: (ctx, input) =>
      callList(
        call,
        client.listEntities,
        ctx,
        input,
        {
          entityType: input.entityType,
          ...protoStrings(input, 'query', 'status'),
          filters: input.filters ?? [],
        },
        { key: 'entities', map: entity },
      ),
    getEntity: async (ctx, entityType, entityId) =>
      entity(await call(client.getEntity, { entityType, entityId }, ctx)),
  };
}

function runMethods({
  client,
  call,
}: RosterUpstream): Pick<RosterGateway, 'getRun' | 'listRunChanges' | 'listRunFindings'> {
  return {
    getRun: async (ctx, syncRunId) => toRun(await call(client.getRun, { syncRunId }, ctx)),
    listRunChanges: (ctx, input) =>
      callList(
        call,
        client.listRunChanges,
        ctx,
        input,
        { syncRunId: input.syncRunId, ...protoStrings(input, 'entityType', 'change', 'disposition') },
        { key: 'changes', map: toChange },
      ),
    listRunFindings: (ctx, input) =>
      callList(
        call,
        client.listRunFindings,
        ctx,
        input,
        { syncRunId: input.syncRunId, ...protoStrings(input, 'code') },
        { key: 'findings', map: toFinding },
      ),
  };
}

function heldBatchMethods({
  client,
  call,
}: RosterUpstream): Pick<
  RosterGateway,
  'listHeldBatches' | 'getHeldBatch' | 'approveHeldBatch' | 'discardHeldBatch'
> {
  return {
    listHeldBatches: (ctx, input) =>
      callList(call, client.listHeldBatches, ctx, input, protoStrings(input, 'status'), {
        key: 'batches',
        map: toHeldBatch,
      }),
    async getHeldBatch(ctx, input) {
      const { reply, page } = await callPage(call, client.getHeldBatch, ctx, input, {
        batchId: input.batchId,
        ...protoStrings(input, 'entityType', 'query'),
      });
      if (reply.batch === null) throw new Error('GetHeldBatch returned no batch');
      return { batch: toHeldBatch(reply.batch), records: reply.records.map(toChange), page };
    },
    approveHeldBatch: async (ctx, batchId, comment, version) =>
      toHeldBatch(await call(client.approveHeldBatch, { batchId, comment, version: version ?? 0 }, ctx)),
    discardHeldBatch: async (ctx, batchId, comment, version) =>
      toHeldBatch(await call(client.discardHeldBatch, { batchId, comment, version: version ?? 0 }, ctx)),
  };
}

function thresholdMethods({
  client,
  call,
}: RosterUpstream): Pick<RosterGateway, 'getRemovalThresholds' | 'setRemovalThresholds'> {
  return {
    getRemovalThresholds: async (ctx) => toThresholds(await call(client.getRemovalThresholds, {}, ctx)),
    setRemovalThresholds: async (ctx, t) =>
      toThresholds(
        await call(
          client.setRemovalThresholds,
          {
            thresholds: {
              defaultThreshold: t.default,
              byType: t.byType.map((b) => ({
                entityType: b.entityType,
                threshold: { percent: b.percent, min: b.min },
              })),
            },
          },
          ctx,
        ),
      ),
  };
}

function undoMethods({ client, call }: RosterUpstream): Pick<RosterGateway, 'previewRunUndo' | 'undoRun'> {
  return {
    previewRunUndo: async (ctx, syncRunId) =>
      toRunUndo(await call(client.previewRunUndo, { syncRunId, comment: '' }, ctx)),
    undoRun: async (ctx, syncRunId, comment) =>
      toRunUndo(await call(client.undoRun, { syncRunId, comment }, ctx)),
  };
}
