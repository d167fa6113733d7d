import { status as grpcStatus } from '@grpc/grpc-js';
import { AppError } from '@isams-sync/errors';
import type { ConnectorGateway } from '../../src/use-cases/ports';
import type { DataSourceSettings, SyncRun, SyncStatus } from '../../src/domain/models/connector.models';
import type { CallContext } from '../../src/domain/principal';
import { receivedFrom } from './upstream-errors';

/** A recorded call to the fake connector. */
export interface RecordedCall {
  method: string;
  ctx: Omit<CallContext, 'signal'>;
  input?: unknown;
}

export function sampleRun(overrides: Partial<SyncRun> = {}): SyncRun {
  return {
    syncRunId: 'run-1',
    status: 'applied',
    terminal: true,
    trigger: { kind: 'manual', actor: 'token:x' },
    dryRun: false,
    requestedAt: '2026-11-01T10:00:00.000Z',
    fetchStartedAt: '2026-11-01T10:00:01.000Z',
    fetchedAt: '2026-11-01T10:00:05.000Z',
    publishedAt: '2026-11-01T10:00:06.000Z',
    finishedAt: '2026-11-01T10:00:09.000Z',
    fetchDurationMs: 4000,
    publishDurationMs: 1000,
    progress: {
      datasetsDone: 14,
      datasetsTotal: 14,
      recordsFetched: 1234,
      bytesFetched: 99,
      chunksPublished: 14,
      chunksTotal: 14,
      groupsDone: 0,
      groupsTotal: 0,
    },
    fetch: { mode: 'whole', groups: [], contactsMethod: null, switchedBecause: null, switchedAt: null },
    datasets: [],
    absentDatasets: [],
    error: null,
    rosterStatus: 'applied',
    rosterCounts: { pupils: { added: 3 } },
    heldBatchId: null,
    updatedAt: '2026-11-01T10:00:09.000Z',
    ...overrides,
  };
}

const WHOLE_KEY: DataSourceSettings['fetchPlan'] = {
  mode: 'whole',
  groups: [],
  contactsMethod: null,
  switchedBecause: null,
  switchedAt: null,
};

const EMPTY_SETTINGS: DataSourceSettings = {
  configured: false,
  isamsUrl: null,
  keyLast4: null,
  format: 'xml',
  scheduleMinutes: 60,
  enabled: false,
  nextRunAt: null,
  updatedAt: null,
  updatedBy: null,
  keyUpdatedAt: null,
  fetchPlan: WHOLE_KEY,
  timeZone: 'Europe/London',
  notificationEmails: [],
  version: 0,
};

/**
 * The zone as the connector stores it (the runtime's spelling of an IANA name), or its refusal as the
 * gateway receives it: a UTC offset or an unknown name is `CONNECTOR_INVALID_ARGUMENT` for `timeZone`.
 */
function connectorTimeZone(value: string): string {
  let zone: string | undefined;
  try {
    zone = /^[+-]/.test(value)
      ? undefined
      : new Intl.DateTimeFormat('en-GB', { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    zone = undefined;
  }
  if (zone !== undefined) return zone;
  const reason = `"${value}" is not an IANA time zone name such as Europe/London`;
  throw receivedFrom('connector', grpcStatus.INVALID_ARGUMENT, 'CONNECTOR_INVALID_ARGUMENT', reason, {
    field: 'timeZone',
    reason,
  });
}

/** As the connector: a save is stored only over the version it names (-1: none stored; 0: unchecked). */
function refuseStaleSave(expected: number, version: number): void {
  if (expected === 0 || expected === (version || -1)) return;
  throw new AppError({
    code: 'CONNECTOR_SETTINGS_CHANGED',
    kind: 'failed_precondition',
    message:
      'The settings were changed since they were loaded; reload the settings and make your change again.',
    details: { expectedVersion: expected, currentVersion: version },
  });
}

/**
 * An in-process fake of the ConnectorGateway interface (for HTTP-translation tests): keeps one
 * school's settings and runs per tenant and records every call with its context.
 */
export function createFakeConnector(): ConnectorGateway & {
  calls: RecordedCall[];
  runs: Map<string, SyncRun[]>;
  /** GetSyncStatus per school (data as of, e-mails sent). */
  status: Map<string, SyncStatus>;
  failNext?: AppError;
  /** Errors thrown once by the next call of the named method (e.g. `putSettings`). */
  failOn: Map<string, AppError>;
  /** When true, watchSyncRun sends the run once and then waits until the caller goes away. */
  watchForever: boolean;
} {
  const settings = new Map<string, DataSourceSettings>();
  const runs = new Map<string, SyncRun[]>();
  const status = new Map<string, SyncStatus>();
  const calls: RecordedCall[] = [];
  const fake = {
    calls,
    runs,
    status,
    failNext: undefined as AppError | undefined,
    failOn: new Map<string, AppError>(),
    watchForever: false,
  };
  const record = (method: string, ctx: CallContext, input?: unknown) => {
    const { signal: _signal, ...rest } = ctx;
    calls.push({ method, ctx: rest, input });
    if (fake.failNext !== undefined) {
      const err = fake.failNext;
      fake.failNext = undefined;
      throw err;
    }
    const once = fake.failOn.get(method);
    if (once !== undefined) {
      fake.failOn.delete(method);
      throw once;
    }
  };
  const notFound = () =>
    new AppError({ code: 'CONNECTOR_RUN_NOT_FOUND', kind: 'not_found', message: 'Sync run not found' });
  return Object.assign(fake, {
    async getSettings(ctx: CallContext) {
      record('getSettings', ctx);
      return settings.get(ctx.tenantId) ?? EMPTY_SETTINGS;
    },
    async putSettings(ctx: CallContext, input: Parameters<ConnectorGateway['putSettings']>[1]) {
      record('putSettings', ctx, input);
      const version = settings.get(ctx.tenantId)?.version ?? 0;
      refuseStaleSave(input.expectedVersion ?? 0, version);
      const timeZone = input.timeZone ? connectorTimeZone(input.timeZone) : undefined;
      const s: DataSourceSettings = {
        configured: true,
        isamsUrl: input.isamsUrl,
        keyLast4:
          input.apiKey?.replace(/[{}]/g, '').slice(-4) ?? settings.get(ctx.tenantId)?.keyLast4 ?? null,
        format: input.format,
        scheduleMinutes: input.scheduleMinutes,
        enabled: input.enabled,
        nextRunAt: '2026-11-01T11:00:00.000Z',
        updatedAt: '2026-11-01T10:00:00.000Z',
        updatedBy: ctx.actor,
        keyUpdatedAt: '2026-11-01T10:00:00.000Z',
        fetchPlan: WHOLE_KEY,
        timeZone: timeZone ?? settings.get(ctx.tenantId)?.timeZone ?? 'Europe/London',
        notificationEmails: input.notificationEmails ?? [],
        version: version + 1,
      };
      settings.set(ctx.tenantId, s);
      return s;
    },
    async testConnection(ctx: CallContext, input: unknown) {
      record('testConnection', ctx, input);
      return {
        ok: false,
        datasets: [
          {
            datasetId: 'currentStaff',
            adminName: 'HR Manager – Current Staff',
            present: true,
            recordCount: 45,
          },
        ],
        missing: ['Teaching Manager – Teaching Set Lists'],
        durationMs: 12,
        bytes: 3456,
        error: null,
      };
    },
    async getEgressInfo(ctx: CallContext) {
      record('getEgressInfo', ctx);
      return {
        egressIps: ['203.0.113.10'],
        integratorProperties: ['School Cloud Systems'],
        instructions: 'Allow-list these.',
        datasets: ['HR Manager Datasets - Current Staff', 'Teaching Manager Datasets - Teaching Set Lists'],
      };
    },
    async triggerSync(ctx: CallContext, input: { dryRun: boolean }) {
      record('triggerSync', ctx, input);
      const run = sampleRun({
        syncRunId: `run-${calls.length}`,
        status: 'requested',
        terminal: false,
        dryRun: input.dryRun,
      });
      runs.set(ctx.tenantId, [run, ...(runs.get(ctx.tenantId) ?? [])]);
      return { run, alreadyActive: false };
    },
    async getSyncRun(ctx: CallContext, syncRunId: string) {
      record('getSyncRun', ctx, { syncRunId });
      const run = (runs.get(ctx.tenantId) ?? []).find((r) => r.syncRunId === syncRunId);
      if (run === undefined) throw notFound();
      return run;
    },
    async listSyncRuns(ctx: CallContext, input: { pageSize?: number }) {
      record('listSyncRuns', ctx, input);
      // One page, as the connector answers.
      const all = runs.get(ctx.tenantId) ?? [];
      return { runs: all.slice(0, input.pageSize ?? 20), page: { nextPageToken: null, totalSize: null } };
    },
    async getSyncStatus(ctx: CallContext) {
      record('getSyncStatus', ctx);
      return status.get(ctx.tenantId) ?? { dataAsOf: null, dataAsOfRunId: null, notifications: [] };
    },
    async cancelSyncRun(ctx: CallContext, syncRunId: string) {
      record('cancelSyncRun', ctx, { syncRunId });
      const run = (runs.get(ctx.tenantId) ?? []).find((r) => r.syncRunId === syncRunId);
      if (run === undefined) throw notFound();
      return { ...run, status: 'cancelled', terminal: true };
    },
    async *watchSyncRun(ctx: CallContext, syncRunId: string) {
      record('watchSyncRun', ctx, { syncRunId });
      const run = (runs.get(ctx.tenantId) ?? []).find((r) => r.syncRunId === syncRunId);
      if (run === undefined) throw notFound();
      yield { ...run, status: 'fetching', terminal: false };
      if (fake.watchForever) {
        const signal = ctx.signal;
        if (signal !== undefined && !signal.aborted)
          await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
        return;
      }
      yield { ...run, status: 'applied', terminal: true };
    },
    close() {},
  });
}
