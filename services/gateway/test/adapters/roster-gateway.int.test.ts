import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadServiceKeyring, unary } from '@isams-sync/grpc';
import type { GrpcServerHandle, rosterV1 } from '@isams-sync/grpc';
import { startRosterStandIn, testServiceIdentityDir, uniqueName } from '@isams-sync/testing';
import { createRosterGateway } from '../../src/adapters/grpc-clients/roster.gateway';
import type { RosterGateway } from '../../src/use-cases/ports';
import type { RemovalThresholds } from '../../src/domain/models/roster.models';
import type { CallContext } from '../../src/domain/principal';

/** One type's counts, every field distinct, as the roster sends them and the gateway returns them. */
const PUPIL_COUNTS = {
  entityType: 'pupil',
  added: 1,
  updated: 2,
  removed: 3,
  restored: 4,
  held: 5,
  unchanged: 6,
  skipped: 7,
};

/** What the in-process roster received: the RPC, the school and the decoded request. */
interface Received {
  method: string;
  tenantId: string;
  request: unknown;
}

const page = { nextPageToken: 'next', totalSize: '7' };
const batch: rosterV1.HeldBatch = {
  batchId: 'b1',
  syncRunId: 'r1',
  status: 'pending',
  createdAt: '2026-12-01T10:00:00.000Z',
  types: [{ entityType: 'pupil', count: 3, reason: 'removals' }],
  total: 3,
  version: 2,
};
const change: rosterV1.Change = {
  seq: 4,
  entityType: 'pupil',
  entityId: 'p1',
  change: 'removed',
  disposition: 'held',
  beforeJson: '{"forename":"Ada"}',
  changedFields: ['status'],
};
const finding: Required<rosterV1.Finding> = {
  code: 'ORPHAN',
  severity: 'warning',
  datasetId: 'pupils',
  recordId: 'p9',
  field: 'tutor',
  ref: 't0',
  message: 'm',
};
const undo: rosterV1.RunUndo = {
  syncRunId: 'r1',
  status: 'possible',
  restore: [{ entityType: 'pupil', entityId: 'p1' }],
  skipped: [{ reason: 'changed since', count: 1 }],
  expiresAt: '2026-12-08T10:00:00.000Z',
};
const thresholds: rosterV1.RemovalThresholds = {
  defaultThreshold: { percent: 10, min: 5 },
  byType: [{ entityType: 'staff', threshold: { percent: 20, min: 2 } }],
};

/** A real in-process RosterService (same proto) that records each request and answers with fixed data. */
async function startRecordingRoster(received: Received[]): Promise<GrpcServerHandle> {
  const answer = <Req, Res>(method: string, response: Res) =>
    unary<Req, Res>((request, ctx) => {
      received.push({ method, tenantId: ctx.tenantId, request });
      return response;
    });
  const implementation: Partial<rosterV1.RosterServiceHandlers> = {
    ListEntities: answer('ListEntities', {
      entities: [{ entityType: 'pupil', entityId: 'p1', status: 'active', dataJson: '{"forename":"Ada"}' }],
      page,
    }),
    GetEntity: answer('GetEntity', {
      entityType: 'staff',
      entityId: 's1',
      status: 'removed',
      removedAt: 'x',
    }),
    GetRun: answer('GetRun', {
      syncRunId: 'r1',
      state: 'completed',
      counts: [PUPIL_COUNTS],
      heldBatchId: 'b1',
      changeCount: 9,
      findingCount: 1,
      holdKind: 'removals',
    }),
    ListRunChanges: answer('ListRunChanges', { changes: [change], page }),
    ListRunFindings: answer('ListRunFindings', { findings: [finding] }),
    ListHeldBatches: answer('ListHeldBatches', { batches: [batch], page }),
    GetHeldBatch: answer('GetHeldBatch', { batch, records: [change], page }),
    ApproveHeldBatch: answer('ApproveHeldBatch', { ...batch, status: 'approved', approvalState: 'applying' }),
    DiscardHeldBatch: answer('DiscardHeldBatch', { ...batch, status: 'discarded' }),
    GetRemovalThresholds: answer('GetRemovalThresholds', thresholds),
    SetRemovalThresholds: answer('SetRemovalThresholds', thresholds),
    PreviewRunUndo: answer('PreviewRunUndo', undo),
    UndoRun: answer('UndoRun', { ...undo, status: 'undoing', undoneBy: 'admin' }),
  };
  return startRosterStandIn({ implementation, callers: ['gateway'] });
}

// One in-process RosterService for the whole file; each test checks the request its last call sent.
const received: Received[] = [];
const ctx: CallContext = { tenantId: uniqueName('school'), requestId: 'req-1', actor: 'admin' };
let server: GrpcServerHandle;
let roster: RosterGateway;
/** The one request the last call sent. */
const last = () => received.at(-1)!;

beforeAll(async () => {
  server = await startRecordingRoster(received);
  roster = createRosterGateway({
    address: `127.0.0.1:${server.port}`,
    deadlineMs: 5_000,
    identity: loadServiceKeyring(testServiceIdentityDir(), 'gateway'),
  });
});
afterAll(async () => {
  roster?.close();
  await server?.shutdown(1_000);
});

describe('the roster gateway (gRPC client): entities and runs', () => {
  it('lists and reads entities', async () => {
    const listed = await roster.listEntities(ctx, {
      entityType: 'pupil',
      query: 'ada',
      filters: [{ field: 'yearGroup', value: '7' }],
      pageSize: 20,
      pageToken: 't',
    });
    expect(last()).toMatchObject({
      method: 'ListEntities',
      tenantId: ctx.tenantId,
      request: {
        entityType: 'pupil',
        query: 'ada',
        status: '',
        filters: [{ field: 'yearGroup', value: '7' }],
        page: { pageSize: 20, pageToken: 't' },
      },
    });
    expect(listed).toEqual({
      entities: [
        {
          entityType: 'pupil',
          entityId: 'p1',
          status: 'active',
          data: { forename: 'Ada' },
          lastSyncRunId: null,
          changedAt: null,
          removedAt: null,
          graceUntil: null,
          removalReason: null,
        },
      ],
      page: { nextPageToken: 'next', totalSize: 7 },
    });
    const one = await roster.getEntity(ctx, 'staff', 's1');
    expect(last()).toMatchObject({ method: 'GetEntity', request: { entityType: 'staff', entityId: 's1' } });
    expect(one).toMatchObject({ entityId: 's1', status: 'removed', removedAt: 'x', data: null });
  });

  it('reads a run, its changes and its findings', async () => {
    const run = await roster.getRun(ctx, 'r1');
    expect(last()).toMatchObject({ method: 'GetRun', request: { syncRunId: 'r1' } });
    expect(run).toEqual({
      syncRunId: 'r1',
      state: 'completed',
      dryRun: false,
      outcome: null,
      receivedAt: null,
      processedAt: null,
      completedAt: null,
      counts: [PUPIL_COUNTS],
      heldBatchId: 'b1',
      errorCode: null,
      errorMessage: null,
      changeCount: 9,
      findingCount: 1,
      holdKind: 'removals',
      holdReason: null,
    });
    const changes = await roster.listRunChanges(ctx, { syncRunId: 'r1', change: 'removed', pageSize: 5 });
    expect(last()).toMatchObject({
      method: 'ListRunChanges',
      request: {
        syncRunId: 'r1',
        entityType: '',
        change: 'removed',
        disposition: '',
        page: { pageSize: 5, pageToken: '' },
      },
    });
    expect(changes.changes).toEqual([
      {
        seq: 4,
        entityType: 'pupil',
        entityId: 'p1',
        change: 'removed',
        disposition: 'held',
        before: { forename: 'Ada' },
        after: null,
        changedFields: ['status'],
        removalReason: null,
      },
    ]);
    const findings = await roster.listRunFindings(ctx, { syncRunId: 'r1', code: 'ORPHAN', pageSize: 5 });
    expect(last()).toMatchObject({ method: 'ListRunFindings', request: { syncRunId: 'r1', code: 'ORPHAN' } });
    expect(findings).toEqual({
      // Every field of a finding is carried as it is.
      findings: [finding],
      // No page in the answer: nothing known about more pages.
      page: { nextPageToken: null, totalSize: null },
    });
  });
});

describe('the roster gateway (gRPC client): held batches, removal thresholds and run undo', () => {
  it('lists, reads, approves and discards held batches', async () => {
    const list = await roster.listHeldBatches(ctx, { status: 'pending', pageSize: 10 });
    expect(last()).toMatchObject({ method: 'ListHeldBatches', request: { status: 'pending' } });
    expect(list.batches.map((b) => [b.batchId, b.kind, b.version, b.lastSyncRunId])).toEqual([
      ['b1', 'removals', 2, 'r1'],
    ]);
    const detail = await roster.getHeldBatch(ctx, { batchId: 'b1', query: 'ada', pageSize: 10 });
    expect(last()).toMatchObject({
      method: 'GetHeldBatch',
      request: { batchId: 'b1', entityType: '', query: 'ada' },
    });
    expect([detail.batch.batchId, detail.records.map((r) => r.entityId)]).toEqual(['b1', ['p1']]);
    const approved = await roster.approveHeldBatch(ctx, 'b1', 'leavers', 2);
    expect(last()).toMatchObject({
      method: 'ApproveHeldBatch',
      request: { batchId: 'b1', comment: 'leavers', version: 2 },
    });
    expect([approved.status, approved.approvalState]).toEqual(['approved', 'applying']);
    const discarded = await roster.discardHeldBatch(ctx, 'b1', 'mistake');
    expect(last()).toMatchObject({
      method: 'DiscardHeldBatch',
      request: { batchId: 'b1', comment: 'mistake', version: 0 },
    });
    expect([discarded.status, discarded.approvalState]).toEqual(['discarded', null]);
  });

  it('reads and replaces the removal thresholds', async () => {
    const expected: RemovalThresholds = {
      default: { percent: 10, min: 5 },
      byType: [{ entityType: 'staff', percent: 20, min: 2 }],
    };
    expect(await roster.getRemovalThresholds(ctx)).toEqual(expected);
    expect(last()).toMatchObject({ method: 'GetRemovalThresholds' });
    expect(await roster.setRemovalThresholds(ctx, expected)).toEqual(expected);
    expect(last()).toMatchObject({
      method: 'SetRemovalThresholds',
      request: {
        thresholds: {
          defaultThreshold: { percent: 10, min: 5 },
          byType: [{ entityType: 'staff', threshold: { percent: 20, min: 2 } }],
        },
      },
    });
  });

  it('previews and undoes a run', async () => {
    const preview = await roster.previewRunUndo(ctx, 'r1');
    expect(last()).toMatchObject({ method: 'PreviewRunUndo', request: { syncRunId: 'r1', comment: '' } });
    expect(preview).toEqual({
      syncRunId: 'r1',
      status: 'possible',
      restore: [{ entityType: 'pupil', entityId: 'p1' }],
      skipped: [{ reason: 'changed since', count: 1 }],
      expiresAt: '2026-12-08T10:00:00.000Z',
      undoneBy: null,
      undoneAt: null,
      comment: null,
    });
    const undone = await roster.undoRun(ctx, 'r1', 'wrong file');
    expect(last()).toMatchObject({ method: 'UndoRun', request: { syncRunId: 'r1', comment: 'wrong file' } });
    expect([undone.status, undone.undoneBy]).toEqual(['undoing', 'admin']);
  });
});
