import { unary } from '@isams-sync/grpc';
import type { RunUndo, RunUndoView } from '../../use-cases/run-undo';
import type { CallContext, rosterV1, ServiceCallers } from '@isams-sync/grpc';
import { AppError } from '@isams-sync/errors';
import { ENTITY_ID_MAX_CHARS, ROSTER_ENTITY_TYPES } from '@isams-sync/events';
import type { RosterEntityType } from '@isams-sync/events';
import { z } from 'zod';
import type { ChangesetDoc, EntityRecord, HeldBatchDoc, StoredChange } from '../../use-cases/records';
import type { ChangeCounts } from '../../domain/change-counts';
import { storedBatchReason } from '../../domain/guard';
import type { HoldReason, RemovalThresholds } from '../../domain/guard';
import type { ApprovalState, HeldBatchDecisionRequest, HeldBatches } from '../../use-cases/held-batches';
import type { Page, RosterQueries } from '../../use-cases/roster-queries';

const DEFAULT_PAGE = 50;
const MAX_PAGE = 500;
const FILTER_FIELDS = [
  'formId',
  'yearGroupId',
  'academicHouseId',
  'boardingHouseId',
  'divisionId',
  'tutorStaffId',
  'teaching',
  'setId',
  'pupilId',
  'customGroupId',
  'subjectId',
  'personId',
  'userCode',
  'schoolId',
] as const;

const entityType = z.enum(ROSTER_ENTITY_TYPES);
const pageSchema = z
  .object({ pageSize: z.number().int().min(0).max(MAX_PAGE), pageToken: z.string().max(200) })
  .nullish()
  .transform((p) => ({ pageSize: p?.pageSize || DEFAULT_PAGE, pageToken: p?.pageToken || undefined }));
/**
 * A record id from a caller: the store joins ids with `|` (records.ts `ids`), so an id holding one
 * would name another record of the school (`<run>|undo` is the run's undo).
 */
const recordId = (max: number) =>
  z
    .string()
    .min(1, 'required')
    .max(max)
    .refine((v) => !v.includes('|'), 'must not contain "|"');
const runId = recordId(64);
const batchId = recordId(100);
const thresholdSchema = z.object({ percent: z.number().int().min(0).max(100), min: z.number().int().min(0) });

/** zod → INVALID_ARGUMENT with the offending fields in details. */
function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const fields = r.error.issues.map((i) => ({ field: i.path.join('.'), problem: i.message }));
  throw new AppError({
    code: 'ROSTER_INVALID_ARGUMENT',
    kind: 'invalid_argument',
    message: `Invalid request: ${fields.map((f) => `${f.field}: ${f.problem}`).join('; ')}`,
    details: { fields },
  });
}

const iso = (d: Date | null | undefined): string => (d ? d.toISOString() : '');
const pageInfo = (p: Page<unknown>) => ({ nextPageToken: p.nextPageToken, totalSize: String(p.totalSize) });

export function toEntity(d: EntityRecord): rosterV1.Entity {
  return {
    entityType: d.entityType,
    entityId: d.entityId,
    status: d.status,
    dataJson: JSON.stringify(d.data),
    lastChangeId: d.lastChangeId,
    lastSyncRunId: d.lastSyncRunId,
    changedAt: d.changedAt,
    removedAt: d.removedAt ?? '',
    graceUntil: d.graceUntil ?? '',
    removalReason: d.removal?.reason ?? '',
    purged: d.purged,
  };
}

export function toChange(c: StoredChange): rosterV1.Change {
  return {
    seq: c.seq,
    entityType: c.entityType,
    entityId: c.entityId,
    change: c.change,
    disposition: c.disposition,
    beforeJson: c.before === undefined ? '' : JSON.stringify(c.before),
    afterJson: c.after === undefined ? '' : JSON.stringify(c.after),
    changedFields: c.changedFields ?? [],
    removalReason: c.removal?.reason ?? '',
    graceUntil: c.removal?.graceUntil ?? '',
  };
}

const toCounts = (counts: Partial<Record<string, ChangeCounts>> | undefined): rosterV1.TypeCounts[] =>
  Object.entries(counts ?? {}).map(([t, c]) => ({
    entityType: t,
    added: c!.added,
    updated: c!.updated,
    removed: c!.removed,
    restored: c!.restored,
    held: c!.held,
    unchanged: c!.unchanged,
    skipped: c!.skipped,
  }));

const toHeldTypes = (
  heldTypes: Partial<Record<string, HoldReason>>,
  countsByType: Partial<Record<string, number>>,
): rosterV1.HeldType[] =>
  Object.entries(countsByType).map(([t, n]) => ({
    entityType: t,
    count: n ?? 0,
    reason: heldTypes[t] ?? '',
  }));

/** Approve/Discard: the batch, why, and the version the admin saw (0 = current). */
const decision = z.object({
  batchId,
  comment: z.string().max(1000),
  version: z.number().int().min(0),
});

/** The use-case's request for a parsed Approve/Discard from the caller's context. */
const decisionRequest = (q: z.infer<typeof decision>, ctx: CallContext): HeldBatchDecisionRequest => ({
  tenantId: ctx.tenantId,
  batchId: q.batchId,
  actor: ctx.actor,
  comment: q.comment,
  version: q.version,
  deadline: ctx.deadline,
});

export function toHeldBatch(b: HeldBatchDoc, approvalState: ApprovalState = ''): rosterV1.HeldBatch {
  return {
    approvalState,
    batchId: b.batchId,
    syncRunId: b.syncRunId,
    status: b.status,
    createdAt: iso(b.createdAt),
    types: toHeldTypes(b.heldTypes, b.countsByType),
    total: b.total,
    decidedBy: b.decidedBy ?? '',
    decidedAt: iso(b.decidedAt),
    comment: b.comment ?? '',
    kind: b.kind ?? 'removals',
    reason: b.reason ?? storedBatchReason(b.heldTypes, b.countsByType),
    version: b.version ?? 1,
    updatedAt: iso(b.updatedAt ?? b.createdAt),
    lastSyncRunId: b.lastSyncRunId ?? b.syncRunId,
  };
}

const toThresholds = (t: RemovalThresholds): rosterV1.RemovalThresholds => ({
  defaultThreshold: t.default,
  byType: Object.entries(t.byType ?? {}).map(([entityType, threshold]) => ({
    entityType,
    threshold: threshold!,
  })),
});

const toRunUndo = (v: RunUndoView): rosterV1.RunUndo => ({
  syncRunId: v.syncRunId,
  status: v.status,
  restore: v.restore,
  skipped: Object.entries(v.skipped).map(([reason, count]) => ({ reason, count })),
  expiresAt: iso(v.expiresAt),
  undoneBy: v.undoneBy ?? '',
  undoneAt: iso(v.undoneAt),
  comment: v.comment ?? '',
});

const toRun = (cs: ChangesetDoc): rosterV1.Run => ({
  syncRunId: cs.syncRunId,
  state: cs.state,
  dryRun: cs.dryRun,
  outcome: cs.outcome ?? '',
  receivedAt: iso(cs.receivedAt),
  processedAt: iso(cs.processedAt),
  completedAt: iso(cs.completedAt),
  counts: toCounts(cs.counts),
  heldBatchId: cs.heldBatchId ?? '',
  errorCode: cs.error?.code ?? '',
  errorMessage: cs.error?.message ?? '',
  changeCount: cs.changeCount ?? 0,
  findingCount: cs.findingCount ?? 0,
  holdKind: cs.holdKind ?? (cs.heldBatchId === undefined ? '' : 'removals'),
  holdReason: cs.holdReason ?? '',
});

/**
 * Who may call the RosterService: the gateway (admin API) on every method; bookings only GetEntity,
 * to check that a person named by a booking exists (docs/security.md).
 */
export const ROSTER_CALLERS: ServiceCallers = {
  default: ['gateway'],
  methods: { GetEntity: ['gateway', 'bookings'] },
};

type Handlers = rosterV1.RosterServiceHandlers;

/** RosterService implementation: validates, calls the use cases, maps to proto messages. */
export function rosterGrpcHandlers(deps: {
  queries: RosterQueries;
  heldBatches: HeldBatches;
  runUndo: RunUndo;
}): Handlers {
  const { queries, heldBatches, runUndo } = deps;
  return {
    ...undoRpcs(runUndo),
    ...entityRpcs(queries),
    ...runRpcs(queries),
    ...heldBatchRpcs(queries, heldBatches),
    ...guardRpcs(queries),
  };
}

/** A run's undo: what it would restore, and doing it. */
function undoRpcs(runUndo: RunUndo): Pick<Handlers, 'PreviewRunUndo' | 'UndoRun'> {
  return {
    PreviewRunUndo: unary(async (req: rosterV1.RunUndoRequest__Output, ctx) => {
      const q = parse(z.object({ syncRunId: runId }), req);
      return toRunUndo(await runUndo.preview(ctx.tenantId, q.syncRunId));
    }),
    UndoRun: unary(async (req: rosterV1.RunUndoRequest__Output, ctx) => {
      const q = parse(z.object({ syncRunId: runId, comment: z.string().max(1000) }), req);
      return toRunUndo(await runUndo.undo(ctx.tenantId, q.syncRunId, ctx.actor, q.comment, ctx.deadline));
    }),
  };
}

/** The roster's entities: search, filter and page; one by type and id. */
function entityRpcs(queries: RosterQueries): Pick<Handlers, 'ListEntities' | 'GetEntity'> {
  return {
    ListEntities: unary(async (req: rosterV1.ListEntitiesRequest__Output, ctx) => {
      const q = parse(
        z.object({
          entityType,
          query: z.string().max(200),
          status: z.enum(['', 'active', 'removed', 'all']).transform((s) => (s === '' ? 'active' : s)),
          filters: z.array(z.object({ field: z.enum(FILTER_FIELDS), value: z.string().max(200) })).max(10),
          page: pageSchema,
        }),
        req,
      );
      const page = await queries.listEntities(
        ctx.tenantId,
        {
          entityType: q.entityType,
          query: q.query,
          status: q.status,
          filters: q.filters,
          pageSize: q.page.pageSize,
          ...(q.page.pageToken === undefined ? {} : { pageToken: q.page.pageToken }),
        },
        ctx.signal,
      );
      return { entities: page.items.map(toEntity), page: pageInfo(page) };
    }),
    GetEntity: unary(async (req: rosterV1.GetEntityRequest__Output, ctx) => {
      const q = parse(
        z.object({ entityType, entityId: z.string().min(1, 'required').max(ENTITY_ID_MAX_CHARS) }),
        req,
      );
      return toEntity(await queries.getEntity(ctx.tenantId, q.entityType, q.entityId));
    }),
  };
}

/** A sync run as the roster processed it: its state and counts, its changes, its findings. */
function runRpcs(queries: RosterQueries): Pick<Handlers, 'GetRun' | 'ListRunChanges' | 'ListRunFindings'> {
  return {
    GetRun: unary(async (req: rosterV1.GetRunRequest__Output, ctx) => {
      const q = parse(z.object({ syncRunId: runId }), req);
      return toRun(await queries.getRun(ctx.tenantId, q.syncRunId));
    }),
    ListRunChanges: unary(async (req: rosterV1.ListRunChangesRequest__Output, ctx) => {
      const q = parse(
        z.object({
          syncRunId: runId,
          entityType: z.union([entityType, z.literal('')]),
          change: z.enum(['', 'added', 'updated', 'removed', 'restored']),
          disposition: z.enum(['', 'apply', 'held', 'discarded']),
          page: pageSchema,
        }),
        req,
      );
      const page = await queries.listRunChanges(
        ctx.tenantId,
        q.syncRunId,
        q,
        q.page.pageSize,
        q.page.pageToken,
        ctx.signal,
      );
      return { changes: page.items.map(toChange), page: pageInfo(page) };
    }),
    ListRunFindings: unary(async (req: rosterV1.ListRunFindingsRequest__Output, ctx) => {
      const q = parse(z.object({ syncRunId: runId, code: z.string().max(100), page: pageSchema }), req);
      const page = await queries.listRunFindings(
        ctx.tenantId,
        q.syncRunId,
        q.code || undefined,
        q.page.pageSize,
        q.page.pageToken,
        ctx.signal,
      );
      return {
        findings: page.items.map((f) => ({
          code: f.code,
          severity: f.severity,
          datasetId: f.datasetId,
          recordId: f.recordId ?? '',
          field: f.field ?? '',
          ref: f.ref ?? '',
          message: f.message,
        })),
        page: pageInfo(page),
      };
    }),
  };
}

/** Held batches: list and read them (each with its approval's state), approve or discard one. */
function heldBatchRpcs(
  queries: RosterQueries,
  heldBatches: HeldBatches,
): Pick<Handlers, 'ListHeldBatches' | 'GetHeldBatch' | 'ApproveHeldBatch' | 'DiscardHeldBatch'> {
  /** A held batch with its approval's state. */
  const withState =
    (tenantId: string) =>
    async (b: HeldBatchDoc): Promise<rosterV1.HeldBatch> =>
      toHeldBatch(b, await heldBatches.approvalState(tenantId, b));
  return {
    ListHeldBatches: unary(async (req: rosterV1.ListHeldBatchesRequest__Output, ctx) => {
      const q = parse(
        z.object({
          status: z.enum(['', 'pending', 'approved', 'discarded', 'superseded']),
          page: pageSchema,
        }),
        req,
      );
      const page = await queries.listHeldBatches(
        ctx.tenantId,
        q.status || undefined,
        q.page.pageSize,
        q.page.pageToken,
      );
      return { batches: await Promise.all(page.items.map(withState(ctx.tenantId))), page: pageInfo(page) };
    }),
    GetHeldBatch: unary(async (req: rosterV1.GetHeldBatchRequest__Output, ctx) => {
      const q = parse(
        z.object({
          batchId,
          entityType: z.union([entityType, z.literal('')]),
          query: z.string().max(200),
          page: pageSchema,
        }),
        req,
      );
      const { batch, records } = await queries.getHeldBatch(
        ctx.tenantId,
        q.batchId,
        { entityType: q.entityType, query: q.query },
        q.page.pageSize,
        q.page.pageToken,
        ctx.signal,
      );
      return {
        batch: await withState(ctx.tenantId)(batch),
        records: records.items.map(toChange),
        page: pageInfo(records),
      };
    }),
    ApproveHeldBatch: unary(async (req: rosterV1.DecideHeldBatchRequest__Output, ctx) => {
      const q = parse(decision, req);
      await heldBatches.approve(decisionRequest(q, ctx));
      return withState(ctx.tenantId)(await heldBatches.get(ctx.tenantId, q.batchId));
    }),
    DiscardHeldBatch: unary(async (req: rosterV1.DecideHeldBatchRequest__Output, ctx) => {
      const q = parse(decision, req);
      return toHeldBatch(await heldBatches.discard(decisionRequest(q, ctx)));
    }),
  };
}

/** The removal guard: the school's thresholds (read, set) and a dry run of a snapshot against them. */
function guardRpcs(
  queries: RosterQueries,
): Pick<Handlers, 'DryRunSnapshot' | 'GetRemovalThresholds' | 'SetRemovalThresholds'> {
  return {
    DryRunSnapshot: unary(async (req: rosterV1.DryRunSnapshotRequest__Output, ctx) => {
      const q = parse(z.object({ syncRunId: runId, maxChanges: z.number().int().min(0).max(MAX_PAGE) }), req);
      const plan = await queries.dryRunSnapshot(ctx.tenantId, q.syncRunId, ctx.signal);
      const heldCounts: Partial<Record<RosterEntityType, number>> = {};
      for (const c of plan.changes)
        if (c.disposition === 'held') heldCounts[c.entityType] = (heldCounts[c.entityType] ?? 0) + 1;
      return {
        counts: toCounts(plan.counts),
        held: toHeldTypes(plan.heldTypes, heldCounts),
        changeCount: plan.changes.length,
        heldCount: plan.heldCount,
        findingCount: plan.findings.length,
        changes: plan.changes.slice(0, q.maxChanges || 100).map(toChange),
        holdKind: plan.hold?.kind ?? '',
        holdReason: plan.hold?.reason ?? '',
      };
    }),
    GetRemovalThresholds: unary(async (_req: rosterV1.GetRemovalThresholdsRequest__Output, ctx) =>
      toThresholds(await queries.thresholds(ctx.tenantId)),
    ),
    SetRemovalThresholds: unary(async (req: rosterV1.SetRemovalThresholdsRequest__Output, ctx) => {
      const q = parse(
        z.object({
          thresholds: z.object({
            defaultThreshold: thresholdSchema,
            byType: z
              .array(z.object({ entityType, threshold: thresholdSchema }))
              .max(ROSTER_ENTITY_TYPES.length),
          }),
        }),
        req,
      );
      const thresholds: RemovalThresholds = {
        default: q.thresholds.defaultThreshold,
        byType: Object.fromEntries(q.thresholds.byType.map((b) => [b.entityType, b.threshold])),
      };
      return toThresholds(await queries.setThresholds(ctx.tenantId, thresholds, ctx.actor));
    }),
  };
}
