import { Metadata, status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { httpStatusFor, isAppError } from '@isams-sync/errors';
import { ERROR_DETAILS_KEY, GrpcCallError } from '@isams-sync/grpc';
import { describe, expect, it } from 'vitest';
import { toSettings, toSyncRun } from '../../src/adapters/grpc-clients/connector.gateway';
import { toHeldBatch, toThresholds } from '../../src/adapters/grpc-clients/roster.gateway';
import { upstreamError } from '../../src/adapters/grpc-clients/upstream-call';

function callError(code: number, errorCode?: string, details?: Record<string, unknown>): GrpcCallError {
  const metadata = new Metadata();
  if (errorCode) metadata.set('x-error-code', errorCode);
  if (details) metadata.set(ERROR_DETAILS_KEY, Buffer.from(JSON.stringify(details)));
  const err = Object.assign(new Error('x'), { code, details: 'upstream says no', metadata }) as ServiceError;
  return new GrpcCallError(err, 'GetSyncRun');
}

describe('upstreamError', () => {
  it.each([
    [status.NOT_FOUND, 'CONNECTOR_RUN_NOT_FOUND', 'CONNECTOR_RUN_NOT_FOUND', 404],
    [status.INVALID_ARGUMENT, 'CONNECTOR_INVALID_REQUEST', 'CONNECTOR_INVALID_REQUEST', 400],
    [status.FAILED_PRECONDITION, 'ROSTER_HELD_BATCH_DECIDED', 'ROSTER_HELD_BATCH_DECIDED', 409],
    [status.RESOURCE_EXHAUSTED, 'CONNECTOR_TRIGGER_LIMITED', 'CONNECTOR_TRIGGER_LIMITED', 429],
    [status.UNAVAILABLE, undefined, 'GATEWAY_UPSTREAM_UNAVAILABLE', 503],
    [status.DEADLINE_EXCEEDED, undefined, 'GATEWAY_UPSTREAM_TIMEOUT', 504],
    [status.INTERNAL, 'INTERNAL', 'INTERNAL', 500],
    // The upstream refused the gateway's own service identity: a deployment fault (keys, allow-list),
    // not the admin's credential — never 401/403 to the admin.
    [status.UNAUTHENTICATED, 'GRPC_SERVICE_TOKEN_INVALID', 'GATEWAY_UPSTREAM_IDENTITY_REFUSED', 500],
    [status.UNAUTHENTICATED, 'GRPC_SERVICE_IDENTITY_REQUIRED', 'GATEWAY_UPSTREAM_IDENTITY_REFUSED', 500],
    [status.PERMISSION_DENIED, 'GRPC_CALLER_NOT_ALLOWED', 'GATEWAY_UPSTREAM_IDENTITY_REFUSED', 500],
    [status.PERMISSION_DENIED, 'GRPC_TENANT_MISMATCH', 'GATEWAY_UPSTREAM_IDENTITY_REFUSED', 500],
  ])('maps status %i (%s) to %s / HTTP %i', (code, serverCode, expected, http) => {
    const mapped = upstreamError(callError(code, serverCode), 'connector');
    expect(isAppError(mapped) && mapped.code).toBe(expected);
    expect(httpStatusFor(mapped)).toBe(http);
  });
  it.each([
    [
      'the connector',
      'CONNECTOR_INVALID_ARGUMENT',
      { field: 'isamsUrl', reason: 'must use https' },
      [{ in: 'upstream', path: '/isamsUrl', message: 'must use https' }],
    ],
    [
      'the roster',
      'ROSTER_INVALID_ARGUMENT',
      { field: 'page.page_token', problem: 'not a token from a previous page' },
      [{ in: 'upstream', path: '/page/page_token', message: 'not a token from a previous page' }],
    ],
    [
      'bookings',
      'BOOKINGS_INVALID_REQUEST',
      {
        fields: [
          { field: 'removals[0].id', problem: 'required' },
          { field: '(request)', problem: 'unknown key' },
        ],
      },
      [
        { in: 'upstream', path: '/removals/0/id', message: 'required' },
        { in: 'upstream', path: '', message: 'unknown key' },
      ],
    ],
    [
      'bookings (a refused time zone, whose details name only the value)',
      'BOOKINGS_TIME_ZONE_UNKNOWN',
      { timeZone: '+01:00' },
      [{ in: 'upstream', path: '/timeZone', message: 'upstream says no' }],
    ],
  ])(
    'gives the invalid fields %s names in the one details shape, details.issues (code and status kept)',
    (_who, code, details, issues) => {
      const mapped = upstreamError(callError(status.INVALID_ARGUMENT, code, details), 'connector');
      expect(isAppError(mapped) && mapped.code).toBe(code);
      expect(httpStatusFor(mapped)).toBe(400);
      expect(isAppError(mapped) && mapped.details).toEqual({ issues });
    },
  );
  it('keeps the details of an invalid-argument error that names no field', () => {
    const mapped = upstreamError(
      callError(status.INVALID_ARGUMENT, 'CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS', { host: 'x' }),
      'connector',
    );
    expect(isAppError(mapped) && mapped.details).toEqual({ host: 'x' });
  });
  it('an upstream’s database error reaches the admin as that upstream away or slow, never with its collection names', () => {
    const driver = { collection: 'changesets', driverError: 'MongoServerSelectionError' };
    const away = upstreamError(callError(status.UNAVAILABLE, 'MONGO_UNAVAILABLE', driver), 'roster');
    expect(away).toMatchObject({ code: 'GATEWAY_UPSTREAM_UNAVAILABLE', details: { upstream: 'roster' } });
    const slow = upstreamError(callError(status.DEADLINE_EXCEEDED, 'MONGO_TIMEOUT', driver), 'roster');
    expect(slow).toMatchObject({ code: 'GATEWAY_UPSTREAM_TIMEOUT', details: { upstream: 'roster' } });
    const other = upstreamError(callError(status.ALREADY_EXISTS, 'MONGO_DUPLICATE_KEY', driver), 'roster');
    expect(other).toMatchObject({ code: 'INTERNAL', kind: 'internal' });
  });
  it('passes non-gRPC errors through', () => {
    const err = new Error('boom');
    expect(upstreamError(err, 'roster')).toBe(err);
  });
});

describe('toSyncRun', () => {
  it('maps int64 strings to numbers, empty strings to null, and parses the roster counts', () => {
    const run = toSyncRun({
      syncRunId: 'r1',
      status: 'published',
      trigger: { kind: 'manual', actor: '' },
      dryRun: false,
      requestedAt: '2026-11-01T10:00:00Z',
      fetchStartedAt: '',
      fetchedAt: '',
      publishedAt: '',
      finishedAt: '',
      fetchDurationMs: '1500',
      publishDurationMs: '0',
      progress: {
        datasetsDone: 3,
        datasetsTotal: 14,
        recordsFetched: '12345678901',
        bytesFetched: '99',
        chunksPublished: 1,
        chunksTotal: 0,
        groupsDone: 1,
        groupsTotal: 3,
      },
      fetch: {
        mode: 'groups',
        groups: [
          { datasetIds: ['currentStaff', 'yearGroups'], status: 'done', requests: 1 },
          { datasetIds: ['currentPupils'], status: 'pending', requests: 0 },
        ],
        contactsMethod: '',
        switchedBecause: 'ISAMS_TIMEOUT',
        switchedAt: '2026-11-01T09:00:00.000Z',
      },
      datasets: [
        {
          datasetId: 'currentPupils',
          adminName: 'Pupil Manager – Current Students',
          present: true,
          recordCount: '300',
          bytes: '10',
          chunkCount: 2,
          fingerprint: '',
        },
      ],
      absentDatasets: [],
      error: { code: '', message: '', adminAction: '', transient: false },
      rosterStatus: '',
      rosterCountsJson: '{"pupil":{"added":3}}',
      heldBatchId: '',
      updatedAt: '',
    });
    expect(run).toMatchObject({
      terminal: false,
      trigger: { kind: 'manual', actor: null },
      fetchStartedAt: null,
      fetchDurationMs: 1500,
      progress: { recordsFetched: 12345678901, groupsDone: 1, groupsTotal: 3 },
      fetch: {
        mode: 'groups',
        groups: [
          { datasetIds: ['currentStaff', 'yearGroups'], status: 'done', requests: 1 },
          { datasetIds: ['currentPupils'], status: 'pending', requests: 0 },
        ],
        contactsMethod: null,
        switchedBecause: 'ISAMS_TIMEOUT',
        switchedAt: '2026-11-01T09:00:00.000Z',
      },
      datasets: [{ recordCount: 300 }],
      error: null,
      rosterStatus: null,
      rosterCounts: { pupil: { added: 3 } },
      heldBatchId: null,
    });
  });
});

describe('toHeldBatch', () => {
  const proto = {
    batchId: 'held-r2',
    syncRunId: 'r2',
    status: 'pending',
    createdAt: '2026-11-01T10:00:00Z',
    types: [{ entityType: 'pupil', count: 80, reason: 'school_identity' }],
    total: 80,
    decidedBy: '',
    decidedAt: '',
    comment: '',
    version: 3,
    updatedAt: '2026-11-01T12:00:00Z',
    lastSyncRunId: 'r4',
    approvalState: '',
  };
  it('carries the state of an approval being applied in the background, and none for an undecided batch', () => {
    expect(toHeldBatch({ ...proto, kind: 'removals', reason: '' }).approvalState).toBeNull();
    expect(
      toHeldBatch({ ...proto, status: 'approved', approvalState: 'applying', kind: 'removals', reason: '' })
        .approvalState,
    ).toBe('applying');
  });
  it('carries the version a later run gave the pending batch, and when and by which run', () => {
    expect(toHeldBatch({ ...proto, kind: 'removals', reason: '' })).toMatchObject({
      version: 3,
      updatedAt: '2026-11-01T12:00:00Z',
      lastSyncRunId: 'r4',
    });
  });
  it('reads a roster that predates batch versions as version 1 of its own run', () => {
    expect(
      toHeldBatch({ ...proto, kind: 'removals', reason: '', version: 0, updatedAt: '', lastSyncRunId: '' }),
    ).toMatchObject({ version: 1, updatedAt: '2026-11-01T10:00:00Z', lastSyncRunId: 'r2' });
  });
  it('carries the kind and the plain-words reason of the batch', () => {
    expect(
      toHeldBatch({ ...proto, kind: 'whole_run', reason: 'This document looks like a different school: …' }),
    ).toMatchObject({
      kind: 'whole_run',
      reason: 'This document looks like a different school: …',
      decidedBy: null,
    });
  });
  it('reads a roster that predates batch kinds as a removal batch without a reason', () => {
    expect(toHeldBatch({ ...proto, kind: '', reason: '' })).toMatchObject({ kind: 'removals', reason: null });
  });
});

describe('toSettings', () => {
  const proto = {
    configured: true,
    isamsUrl: 'https://school.isams.cloud',
    keyLast4: '7777',
    format: 'xml',
    scheduleMinutes: 120,
    enabled: false,
    nextRunAt: '',
    updatedAt: '2026-11-01T10:00:00.000Z',
    updatedBy: 'token:a',
    keyUpdatedAt: '2026-11-01T10:00:00.000Z',
    fetchPlan: null,
    timeZone: 'Europe/Dublin',
    notificationEmails: ['office@school.org'],
    version: 4,
  };
  it('carries the time zone and who is notified', () => {
    expect(toSettings(proto)).toMatchObject({
      scheduleMinutes: 120,
      enabled: false,
      nextRunAt: null,
      timeZone: 'Europe/Dublin',
      notificationEmails: ['office@school.org'],
      version: 4,
    });
  });
  it('reads a connector that predates them as Europe/London and nobody', () => {
    const { timeZone: _t, notificationEmails: _n, ...old } = proto;
    expect(
      toSettings({ ...old, timeZone: '', notificationEmails: undefined as unknown as string[] }),
    ).toMatchObject({
      timeZone: 'Europe/London',
      notificationEmails: [],
    });
  });
});

describe('toThresholds', () => {
  it('flattens the per-type thresholds and leaves out types the gateway does not know', () => {
    expect(
      toThresholds({
        defaultThreshold: { percent: 10, min: 5 },
        byType: [
          { entityType: 'pupil', threshold: { percent: 5, min: 3 } },
          { entityType: 'spaceship', threshold: { percent: 1, min: 1 } },
          { entityType: 'staff', threshold: null },
        ],
      }),
    ).toEqual({ default: { percent: 10, min: 5 }, byType: [{ entityType: 'pupil', percent: 5, min: 3 }] });
  });
});
