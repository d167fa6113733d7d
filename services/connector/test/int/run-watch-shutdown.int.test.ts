import { randomUUID } from 'node:crypto';
import { status } from '@grpc/grpc-js';
import type { ServiceError } from '@grpc/grpc-js';
import { GrpcCallError } from '@isams-sync/grpc';
import type { connectorV1 } from '@isams-sync/grpc';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { ConnectorApp } from '../../src/app';
import { connectorClient, connectorTestEnv, startConnector } from '../support/connector-harness';
import type { ConnectorClient } from '../support/connector-harness';
import { runRecord } from '../support/run-records';

/** One WatchSyncRun stream: what it received, and a promise of how it ended (never rejects). */
interface Watched {
  seen: connectorV1.SyncRun__Output[];
  first: Promise<void>;
  ended: Promise<GrpcCallError | 'end'>;
}

function watch(client: ConnectorClient, tenantId: string, syncRunId: string): Watched {
  const call = client.raw.watchSyncRun({ syncRunId }, client.md(tenantId));
  const seen: connectorV1.SyncRun__Output[] = [];
  let sent!: () => void;
  const first = new Promise<void>((resolve) => (sent = resolve));
  const ended = new Promise<GrpcCallError | 'end'>((resolve) => {
    call.on('data', (r: connectorV1.SyncRun__Output) => {
      seen.push(r);
      sent();
    });
    call.on('end', () => resolve('end'));
    call.on('error', (err: ServiceError) => resolve(new GrpcCallError(err, 'WatchSyncRun')));
  });
  return { seen, first, ended };
}

const outcome = (ended: GrpcCallError | 'end') =>
  ended === 'end' ? 'end' : { code: ended.code, errorCode: ended.errorCode };

/**
 * A connector replica that stops (a rolling deploy) ends its live views of runs first: each open
 * WatchSyncRun stream, which would never end by itself, ends at once with UNAVAILABLE
 * `CONNECTOR_SHUTTING_DOWN` (the gateway's page follows the run elsewhere), before the stop waits
 * for the unary calls in flight — which still finish. No stream holds the gRPC stop to its deadline
 * and has it cut.
 */
describe('WatchSyncRun when the connector stops (real FerretDB)', () => {
  const env = connectorTestEnv();
  let app: ConnectorApp | undefined;
  let client: ConnectorClient | undefined;
  let stopped: Promise<void> | undefined;
  beforeAll(async () => {
    // No poll: the streams stay open, waiting for a write of their run that never comes.
    app = await startConnector(env.env({ SCHEDULER_ENABLED: 'false' }), { watchPollMs: 10 * 60_000 });
    client = connectorClient(app.grpcPort);
  });
  afterAll(async () => {
    client?.close();
    await (stopped ?? app?.stop());
    await env.dropDatabase();
  });

  it('ends every open stream with UNAVAILABLE CONNECTOR_SHUTTING_DOWN before waiting for a unary call in flight, which finishes', async () => {
    const [a, c] = [app!, client!];
    const tenant = 'watch-stop';
    const runs = [randomUUID(), randomUUID()].map((id) => runRecord(tenant, id, new Date()));
    for (const run of runs) await a.runs.recordRequested(run);
    const watches = [
      watch(c, tenant, runs[0]!._id),
      watch(c, tenant, runs[0]!._id),
      watch(c, tenant, runs[1]!._id),
    ];
    await Promise.all(watches.map((w) => w.first));

    // A ListSyncRuns held in its handler until every stream has ended: were the stop to wait for
    // calls in flight before ending the streams, neither would end before the stop's deadline cut both.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let entered!: () => void;
    const inHandler = new Promise<void>((resolve) => (entered = resolve));
    const list = a.runs.list.bind(a.runs);
    vi.spyOn(a.runs, 'list').mockImplementation(async (...args) => {
      entered();
      await held;
      return list(...args);
    });
    const listing = c
      .listSyncRuns({ statuses: [], triggerKind: '' }, c.md(tenant))
      .catch((err: unknown) => err as GrpcCallError);
    await inHandler;

    stopped = a.stop();
    const ends = await Promise.all(watches.map((w) => w.ended));
    // A stream asked for now finds no server that takes it.
    const late = await watch(c, tenant, runs[0]!._id).ended;
    release();

    expect(ends.map(outcome)).toEqual(
      Array(3).fill({ code: status.UNAVAILABLE, errorCode: 'CONNECTOR_SHUTTING_DOWN' }),
    );
    expect(watches.map((w) => w.seen.map((r) => r.syncRunId))).toEqual([
      [runs[0]!._id],
      [runs[0]!._id],
      [runs[1]!._id],
    ]);
    expect(late === 'end' ? 'end' : late.code).toBe(status.UNAVAILABLE);
    const answered = await listing;
    expect(answered).not.toBeInstanceOf(GrpcCallError);
    expect('runs' in answered ? answered.runs.map((r) => r.syncRunId).sort() : answered).toEqual(
      runs.map((r) => r._id).sort(),
    );
    await stopped;
  });
});
