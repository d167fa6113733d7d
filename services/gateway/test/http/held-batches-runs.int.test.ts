import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGatewayHarness } from '../support/gateway-harness';
import type { GatewayHarness } from '../support/gateway-harness';

// One gateway and two schools' tokens for the whole file: the tests build on the state the earlier
// ones left in the fakes (the runs triggered first are streamed and listed next; a decided batch stays
// decided).
let h: GatewayHarness;
let tokenA: string;
let tokenB: string;
beforeAll(async () => {
  h = await startGatewayHarness();
  tokenA = (await h.issueToken('school-a')).token;
  tokenB = (await h.issueToken('school-b')).token;
});
afterAll(async () => h?.close());

const req = (method: 'GET' | 'POST', url: string, token: string, payload?: object) =>
  h.app.http.inject({
    method,
    url,
    headers: { authorization: `Bearer ${token}` },
    ...(payload ? { payload } : {}),
  });

describe('sync-run and roster routes: live events, progress, overview, browsing (real FerretDB, fake upstreams)', () => {
  it('refuses a real run while an event is live until confirmed, and then audits it', async () => {
    h.upstream.state.live = [
      {
        id: 'ev1',
        kind: 'parents_evening',
        title: 'Year 9 evening',
        startsAt: null,
        endsAt: null,
        status: 'live',
      },
    ];
    const before = h.connector.calls.filter((c) => c.method === 'triggerSync').length;
    const refused = await req('POST', '/api/v1/schools/school-a/sync-runs', tokenA, {});
    expect(refused.statusCode).toBe(409);
    expect(refused.json().error.code).toBe('GATEWAY_LIVE_EVENT_CONFIRMATION_REQUIRED');
    expect(refused.json().error.details.events).toEqual([{ id: 'ev1', title: 'Year 9 evening' }]);
    expect(h.connector.calls.filter((c) => c.method === 'triggerSync').length).toBe(before);

    const dry = await req('POST', '/api/v1/schools/school-a/sync-runs', tokenA, { dryRun: true });
    expect(dry.statusCode).toBe(202);
    const confirmed = await req('POST', '/api/v1/schools/school-a/sync-runs', tokenA, {
      confirmLiveEvents: true,
    });
    expect(confirmed.statusCode).toBe(202);
    expect(confirmed.json().run.dryRun).toBe(false);
    h.upstream.state.live = [];
    const plain = await req('POST', '/api/v1/schools/school-a/sync-runs', tokenA);
    expect(plain.statusCode).toBe(202);
    const audit = await req('GET', '/api/v1/schools/school-a/audit-log', tokenA);
    expect(audit.json().entries.filter((e: { action: string }) => e.action === 'sync.trigger')).toHaveLength(
      3,
    );
  });

  it('streams live run progress as Server-Sent Events until the run ends', async () => {
    const runId = h.connector.runs.get('school-a')![0]!.syncRunId;
    const res = await req('GET', `/api/v1/schools/school-a/sync-runs/${runId}/events`, tokenA);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toContain('text/event-stream');
    expect(res.headers['content-security-policy']).toBeDefined();
    const events = res.body
      .split('\n\n')
      .filter((f) => f.startsWith('event:'))
      .map((f) => f.split('\n')[0]);
    expect(events).toEqual(['event: run', 'event: run', 'event: end']);
    expect(res.body).toContain('"status":"applied"');
    const unknown = await req('GET', '/api/v1/schools/school-a/sync-runs/nope/events', tokenA);
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json().error.code).toBe('CONNECTOR_RUN_NOT_FOUND');
  });

  it('lists runs and builds the overview with data freshness', async () => {
    const runs = await req(
      'GET',
      '/api/v1/schools/school-a/sync-runs?pageSize=5&status=applied,held',
      tokenA,
    );
    expect(runs.statusCode).toBe(200);
    expect(h.connector.calls.at(-1)?.input).toEqual({ pageSize: 5, statuses: ['applied', 'held'] });
    const overview = await req('GET', '/api/v1/schools/school-a/overview', tokenA);
    expect(overview.statusCode).toBe(200);
    expect(overview.json().activeRun.status).toBe('requested');
    expect(overview.json()).toHaveProperty('dataAsOf');
  });

  it('serves roster browsing, run counts and findings', async () => {
    const staff = await req('GET', '/api/v1/schools/school-a/roster/staff?q=smi', tokenA);
    expect(staff.statusCode).toBe(200);
    expect(staff.json().entities[0].data.surname).toBe('Smith');
    expect(h.upstream.calls.at(-1)).toMatchObject({
      method: 'listEntities',
      tenantId: 'school-a',
      input: { entityType: 'staff', query: 'smi', status: 'active' },
    });
    expect((await req('GET', '/api/v1/schools/school-a/roster/martians', tokenA)).statusCode).toBe(400);
    const counts = await req('GET', '/api/v1/schools/school-a/sync-runs/run-1/roster', tokenA);
    expect(counts.json().counts[0]).toMatchObject({ entityType: 'pupil', added: 1, updated: 2 });
    const findings = await req('GET', '/api/v1/schools/school-a/sync-runs/run-1/findings', tokenA);
    expect(findings.json().findings[0].code).toBe('PUPIL_NO_YEAR_GROUP');
  });

  it('looks one entity up by an id of up to 200 characters, as the roster and bookings do', async () => {
    // The typed reader leaves out a record whose identity is longer (libs/isams ID_MAX_CHARS).
    const id200 = '9'.repeat(200);
    const found = await req('GET', `/api/v1/schools/school-a/roster/pupil/${id200}`, tokenA);
    expect(found.statusCode).toBe(200);
    expect(found.json()).toMatchObject({ entityType: 'pupil', entityId: id200 });
    const tooLong = await req('GET', `/api/v1/schools/school-a/roster/pupil/${id200}9`, tokenA);
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().error.code).toBe('GATEWAY_VALIDATION_FAILED');
  });
});

describe('held-batch routes: impact, versions, tenancy and decisions (real FerretDB, fake upstreams)', () => {
  it('previews the impact of a held batch over all its pages, people de-duplicated', async () => {
    const res = await req('GET', '/api/v1/schools/school-a/held-batches/batch-1/impact', tokenA);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ peopleConsidered: 2, totalBookingsToCancel: 4, familiesAffected: 2 });
    expect(h.upstream.state.previewed.at(-1)).toEqual([
      { kind: 'pupil', id: 'p1' },
      { kind: 'pupil', id: 'p2' },
    ]);
  });

  it("previews a dry run's removals as a dry run (live events' bookings held, not cancelled)", async () => {
    const res = await req('GET', '/api/v1/schools/school-a/sync-runs/run-dry/impact', tokenA);
    expect(res.statusCode).toBe(200);
    // only the removal a real run would apply: not the one it would hold, nor the one a discard keeps
    expect(res.json().peopleConsidered).toBe(1);
    expect(h.upstream.state.previewed.at(-1)).toEqual([{ kind: 'pupil', id: 'p7' }]);
    const preview = h.upstream.calls.filter((c) => c.method === 'previewRemovalImpact').at(-1);
    expect(preview?.input).toMatchObject({ dryRunId: 'run-dry' });
    expect(
      h.upstream.calls.find(
        (c) => c.method === 'listRunChanges' && (c.input as { syncRunId: string }).syncRunId === 'run-dry',
      )?.input,
    ).toMatchObject({ change: 'removed', disposition: 'apply' });
  });

  it('passes the version the admin saw; a batch changed since is refused with 409', async () => {
    const stale = await req('POST', '/api/v1/schools/school-a/held-batches/batch-1/approve', tokenA, {
      comment: 'old view',
      version: 7,
    });
    expect(stale.statusCode).toBe(409);
    expect(stale.json().error.code).toBe('ROSTER_HELD_BATCH_CHANGED');
    expect(h.upstream.state.batch.status).toBe('pending');
    const listed = await req('GET', '/api/v1/schools/school-a/held-batches', tokenA);
    expect(listed.json().batches[0]).toMatchObject({ version: 1, lastSyncRunId: 'run-9' });
  });

  it("hides another school's held batch and refuses to approve it", async () => {
    const view = await req('GET', '/api/v1/schools/school-b/held-batches/batch-1', tokenB);
    expect(view.statusCode).toBe(404);
    const approve = await req('POST', '/api/v1/schools/school-b/held-batches/batch-1/approve', tokenB, {});
    expect(approve.statusCode).toBe(404);
    const crossPath = await req('POST', '/api/v1/schools/school-a/held-batches/batch-1/approve', tokenB, {});
    expect(crossPath.statusCode).toBe(404);
    expect(h.upstream.state.batch.status).toBe('pending');
  });

  it('approves once with a comment, audits it, and maps a second decision to 409', async () => {
    const ok = await req('POST', '/api/v1/schools/school-a/held-batches/batch-1/approve', tokenA, {
      comment: 'leavers confirmed',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'approved', comment: 'leavers confirmed' });
    const again = await req('POST', '/api/v1/schools/school-a/held-batches/batch-1/discard', tokenA, {});
    expect(again.statusCode).toBe(409);
    expect(again.json().error.code).toBe('ROSTER_HELD_BATCH_DECIDED');
    const audit = await req('GET', '/api/v1/schools/school-a/audit-log', tokenA);
    const actions = audit
      .json()
      .entries.map((e: { action: string; outcome: string }) => `${e.action}:${e.outcome}`);
    expect(actions).toContain('held-batch.approve:succeeded');
    expect(actions).toContain('held-batch.discard:failed');
  });

  it('shows a whole-run batch (another school’s document) with its kind and reason, and audits its decision', async () => {
    const reason =
      'This document looks like a different school: 1,150 of 1,199 known pupils now have a different name and date of birth. Nothing from it has been applied.';
    h.upstream.state.batch = {
      ...h.upstream.state.batch,
      batchId: 'batch-2',
      syncRunId: 'run-2',
      status: 'pending',
      decidedBy: null,
      comment: null,
      kind: 'whole_run',
      reason,
      types: [{ entityType: 'pupil', count: 1199, reason: 'school_identity' }],
      total: 1199,
    };
    const list = await req('GET', '/api/v1/schools/school-a/held-batches?status=pending', tokenA);
    expect(list.statusCode).toBe(200);
    expect(list.json().batches[0]).toMatchObject({ batchId: 'batch-2', kind: 'whole_run', reason });
    const detail = await req('GET', '/api/v1/schools/school-a/held-batches/batch-2', tokenA);
    expect(detail.json().batch).toMatchObject({ kind: 'whole_run', reason });
    const run = await req('GET', '/api/v1/schools/school-a/sync-runs/run-2/roster', tokenA);
    expect(run.json()).toMatchObject({ outcome: 'held', holdKind: 'whole_run', holdReason: reason });
    const ok = await req('POST', '/api/v1/schools/school-a/held-batches/batch-2/approve', tokenA, {
      comment: 'the school moved to a new iSAMS',
    });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ status: 'approved', kind: 'whole_run' });
    const audit = await req('GET', '/api/v1/schools/school-a/audit-log', tokenA);
    expect(
      audit
        .json()
        .entries.filter(
          (e: { action: string; target: { batchId?: string } }) =>
            e.action === 'held-batch.approve' && e.target.batchId === 'batch-2',
        )
        .map((e: { outcome: string }) => e.outcome),
    ).toEqual(['succeeded']);
  });
});

describe('the OpenAPI documents and the dashboard page (real FerretDB)', () => {
  it('serves the OpenAPI document with every route and the error schema', async () => {
    const res = await h.app.http.inject({ method: 'GET', url: '/api/v1/openapi.json' });
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    for (const path of [
      '/api/v1/schools/{schoolId}/settings',
      '/api/v1/schools/{schoolId}/settings/test',
      '/api/v1/schools/{schoolId}/egress',
      '/api/v1/schools/{schoolId}/sync-runs',
      '/api/v1/schools/{schoolId}/sync-runs/{syncRunId}',
      '/api/v1/schools/{schoolId}/held-batches/{batchId}/impact',
      '/api/v1/schools/{schoolId}/held-batches/{batchId}/approve',
      '/api/v1/schools/{schoolId}/roster/{entityType}',
      '/api/v1/schools/{schoolId}/events/{eventId}/bookings',
    ]) {
      expect(Object.keys(doc.paths)).toContain(path);
    }
    const operatorDoc = (
      await h.app.operatorHttp!.inject({ method: 'GET', url: '/api/v1/openapi.json' })
    ).json<{ paths: Record<string, unknown> }>();
    expect(Object.keys(operatorDoc.paths)).toEqual([
      '/api/v1/operator/tokens',
      '/api/v1/operator/tokens/{tokenId}',
    ]);
    expect(JSON.stringify(doc.paths['/api/v1/schools/{schoolId}/settings'].put.responses['401'])).toContain(
      'ErrorBody',
    );
    expect(doc.components.schemas.ErrorBody.properties.error.required).toContain('requestId');
  });

  it('serves the dashboard page with a strict CSP and answers unknown routes with a coded 404', async () => {
    const page = await h.app.http.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    expect(page.headers['content-security-policy']).toContain("script-src 'self'");
    const missing = await h.app.http.inject({ method: 'GET', url: '/assets/..%2Fapp.ts' });
    expect(missing.statusCode).toBe(404);
    const unknown = await h.app.http.inject({ method: 'GET', url: '/api/v1/nothing' });
    expect(unknown.json().error.code).toBe('GATEWAY_ROUTE_NOT_FOUND');
  });
});
