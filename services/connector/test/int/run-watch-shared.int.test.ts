import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { ClientReadableStream, ServiceError } from '@grpc/grpc-js';
import { GrpcCallError } from '@isams-sync/grpc';
import type { connectorV1 } from '@isams-sync/grpc';
import { eventually } from '@isams-sync/testing';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_WATCH_STREAMS_PER_SCHOOL } from '../../src/handlers/grpc/run-watches';
import { EMPTY_PROGRESS } from '../../src/domain/sync-run';
import { useConnectorSuite } from '../support/connector-harness';
import type { ConnectorSuite } from '../support/connector-harness';
import { runRecord } from '../support/run-records';

/** One open WatchSyncRun stream: what it received, and how it ended. */
interface OpenWatch {
  call: ClientReadableStream<connectorV1.SyncRun__Output>;
  seen: connectorV1.SyncRun__Output[];
  error?: GrpcCallError;
  ended: boolean;
}

function openWatch(suite: ConnectorSuite, tenantId: string, syncRunId: string): OpenWatch {
  const call = suite.client.raw.watchSyncRun({ syncRunId }, suite.client.md(tenantId));
  const w: OpenWatch = { call, seen: [], ended: false };
  call.on('data', (r: connectorV1.SyncRun__Output) => w.seen.push(r));
  call.on('end', () => (w.ended = true));
  call.on('error', (err: ServiceError) => {
    w.error = new GrpcCallError(err, 'WatchSyncRun');
    w.ended = true;
  });
  return w;
}

/** Waits until every stream got `n` messages (a stream that failed fails the wait). */
function eachHasSeen(watches: OpenWatch[], n: number, what: string): Promise<true> {
  return eventually(() => {
    const failed = watches.find((w) => w.error);
    if (failed) throw failed.error;
    return watches.every((w) => w.seen.length >= n);
  }, what);
}

/** Waits until the stream either sent its first message or was refused. */
function settled(w: OpenWatch): Promise<true> {
  return eventually(() => w.seen.length > 0 || w.error !== undefined, 'the stream to answer');
}

/** A run in `published` (waiting for the roster's report: nothing else writes it). */
async function publishedRun(suite: ConnectorSuite, tenantId: string) {
  const run = runRecord(tenantId, randomUUID(), new Date(), { progress: { ...EMPTY_PROGRESS } });
  await suite.app.runs.recordRequested(run);
  return run;
}

/**
 * The dashboard's live view of a run (WatchSyncRun) costs the database one read of the run per wake,
 * however many admins watch it: the streams of one run (of one school) share one reader in the
 * process. And one school can hold only so many of this process's streams.
 */
describe('WatchSyncRun: the streams of one run share one reader; a school’s streams are capped', () => {
  // No poll during the test: the only wakes are this replica's writes of the run.
  const suite = useConnectorSuite({ overrides: { watchPollMs: 10 * 60_000 } });
  const open: OpenWatch[] = [];
  const watch = (tenantId: string, syncRunId: string) => {
    const w = openWatch(suite, tenantId, syncRunId);
    open.push(w);
    return w;
  };
  afterEach(async () => {
    vi.restoreAllMocks();
    for (const w of open.splice(0)) w.call.cancel();
  });

  it('reads the run once per wake for all of its streams, not once per stream', async () => {
    const tenant = 'watch-shared';
    const run = await publishedRun(suite, tenant);
    const reads = vi.spyOn(suite.app.runs, 'get');
    const readsOfRun = () => reads.mock.calls.filter(([, id]) => id === run._id).length;
    const n = 8;
    const watches = Array.from({ length: n }, () => watch(tenant, run._id));
    await eachHasSeen(watches, 1, 'every stream to send the run');
    expect(readsOfRun()).toBe(1);

    // One write of the run here wakes the watches: one read, every stream sent the new state.
    await suite.app.runs.recordProgress(run, { ...EMPTY_PROGRESS, recordsFetched: 42 });
    await eachHasSeen(watches, 2, 'every stream to send the progress');
    expect(watches.map((w) => w.seen[1]?.progress?.recordsFetched)).toEqual(Array(n).fill('42'));
    expect(readsOfRun()).toBe(2);
    expect(watches.every((w) => !w.ended)).toBe(true);
  });

  it(`refuses a school's stream beyond ${MAX_WATCH_STREAMS_PER_SCHOOL} with RESOURCE_EXHAUSTED, other schools unaffected`, async () => {
    const tenant = 'watch-capped';
    const other = 'watch-other';
    const run = await publishedRun(suite, tenant);
    const otherRun = await publishedRun(suite, other);
    const full = Array.from({ length: MAX_WATCH_STREAMS_PER_SCHOOL }, () => watch(tenant, run._id));
    await eachHasSeen(full, 1, 'the school’s streams to open');

    const refused = watch(tenant, run._id);
    await settled(refused);
    expect(refused.error?.code).toBe(status.RESOURCE_EXHAUSTED);
    expect(refused.error?.errorCode).toBe('CONNECTOR_WATCH_CAPACITY_EXHAUSTED');
    expect(refused.error?.details).toEqual({ limit: MAX_WATCH_STREAMS_PER_SCHOOL });

    // Another school is not held by this one's streams; nor is a run id of this school to it.
    const others = watch(other, otherRun._id);
    await eachHasSeen([others], 1, 'the other school’s stream to open');
    const foreign = watch(other, run._id);
    await settled(foreign);
    expect(foreign.error?.code).toBe(status.NOT_FOUND);
    expect(foreign.error?.errorCode).toBe('CONNECTOR_RUN_NOT_FOUND');

    // A stream closed frees its place.
    full[0]!.call.cancel();
    const again = await eventually(async () => {
      const w = watch(tenant, run._id);
      await settled(w);
      return w.error === undefined ? w : undefined;
    }, 'a stream of the school to be accepted again');
    expect(again.seen[0]?.syncRunId).toBe(run._id);
  });
});
