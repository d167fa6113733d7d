import { describe, expect, it } from 'vitest';
import { bearerCredential, credentialKind } from '../../src/domain/admin-token';
import { removedPeople } from '../../src/domain/removal-people';
import { buildOverview, isTerminalStatus } from '../../src/domain/sync-run-view';
import type { Change } from '../../src/domain/models/roster.models';
import { sampleRun } from '../support/fake-connector';

describe('credentials', () => {
  it('reads only a well-formed Bearer header', () => {
    expect(bearerCredential('Bearer abc')).toBe('abc');
    expect(bearerCredential('bearer   abc  ')).toBe('abc');
    expect(bearerCredential('Basic abc')).toBeUndefined();
    expect(bearerCredential('Bearer a b')).toBeUndefined();
    expect(bearerCredential(undefined)).toBeUndefined();
  });
  it('classifies admin tokens, JWTs and anything else', () => {
    expect(credentialKind(`isg_${'a'.repeat(43)}`)).toBe('admin_token');
    expect(credentialKind(`isg_${'a'.repeat(42)}`)).toBe('unknown');
    expect(credentialKind('aaa.bbb.ccc')).toBe('jwt');
    expect(credentialKind('aaa.bbb.')).toBe('unknown');
  });
});

describe('removedPeople', () => {
  const c = (entityType: string, entityId: string, change = 'removed'): Change => ({
    seq: 0,
    entityType,
    entityId,
    change,
    disposition: 'held',
    before: null,
    after: null,
    changedFields: [],
    removalReason: null,
  });
  it('keeps removed staff, pupils and contacts once each, in order', () => {
    expect(
      removedPeople([
        c('pupil', '1'),
        c('form', 'f'),
        c('staff', 's'),
        c('pupil', '1'),
        c('contact', 'k'),
        c('pupil', '2', 'updated'),
      ]),
    ).toEqual([
      { kind: 'pupil', id: '1' },
      { kind: 'staff', id: 's' },
      { kind: 'contact', id: 'k' },
    ]);
  });
});

describe('buildOverview', () => {
  const settings = {
    configured: true,
    isamsUrl: 'https://x',
    keyLast4: '1234',
    format: 'xml' as const,
    scheduleMinutes: 60,
    enabled: true,
    nextRunAt: '2026-11-01T12:00:00.000Z',
    updatedAt: null,
    updatedBy: null,
    keyUpdatedAt: null,
    fetchPlan: {
      mode: 'whole' as const,
      groups: [],
      contactsMethod: null,
      switchedBecause: null,
      switchedAt: null,
    },
    timeZone: 'Europe/London',
    notificationEmails: [],
    version: 3,
  };
  const status = { dataAsOf: '2026-11-01T10:00:00.000Z', dataAsOfRunId: 'r1', notifications: [] };
  it("finds the active, last and last successful runs; data as of is the connector's stored time", () => {
    const runs = [
      sampleRun({ syncRunId: 'r4', status: 'fetching', terminal: false }),
      sampleRun({ syncRunId: 'r3', status: 'failed', fetchedAt: null }),
      sampleRun({ syncRunId: 'r2', status: 'applied', dryRun: true, fetchedAt: '2026-11-01T11:00:00.000Z' }),
      sampleRun({ syncRunId: 'r1', status: 'unchanged', fetchedAt: '2026-11-01T10:00:00.000Z' }),
      sampleRun({ syncRunId: 'r0', status: 'held' }),
    ];
    const o = buildOverview(settings, runs, status);
    expect(o.activeRun?.syncRunId).toBe('r4');
    expect(o.lastRun?.syncRunId).toBe('r3');
    expect(o.lastSuccessfulRun?.syncRunId).toBe('r1');
    expect(o.dataAsOf).toBe('2026-11-01T10:00:00.000Z');
    expect(o.heldRunIds).toEqual(['r0']);
    expect(o.nextRunAt).toBe(settings.nextRunAt);
    expect(buildOverview({ ...settings, enabled: false }, [], status).nextRunAt).toBeNull();
  });
  it('the last run is the last real sync: a dry run (held or applied, nothing kept) is not it', () => {
    const runs = [
      sampleRun({ syncRunId: 'dry', status: 'held', dryRun: true }),
      sampleRun({ syncRunId: 'real', status: 'applied', fetchedAt: '2026-11-01T11:00:00.000Z' }),
    ];
    const o = buildOverview(settings, runs, status);
    expect(o.lastRun?.syncRunId).toBe('real');
    expect(o.heldRunIds).toEqual([]);
  });
  it('a run whose held batch was discarded is finished and decided: the last run, not awaiting a decision', () => {
    const runs = [
      sampleRun({ syncRunId: 'later', status: 'discarded', heldBatchId: 'held-first' }),
      sampleRun({ syncRunId: 'first', status: 'discarded', heldBatchId: 'held-first' }),
      sampleRun({ syncRunId: 'older', status: 'held', heldBatchId: 'held-older' }),
    ];
    const o = buildOverview(settings, runs, status);
    expect(o.lastRun?.syncRunId).toBe('later');
    expect(o.activeRun).toBeNull();
    expect(o.heldRunIds).toEqual(['older']);
  });
  it('knows the terminal statuses', () => {
    expect(
      ['applied', 'unchanged', 'held', 'failed', 'cancelled', 'discarded', 'superseded'].every(
        isTerminalStatus,
      ),
    ).toBe(true);
    expect(['requested', 'fetching', 'published', 'applying'].some(isTerminalStatus)).toBe(false);
  });
});
