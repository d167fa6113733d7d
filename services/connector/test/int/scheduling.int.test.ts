import { eventually } from '@isams-sync/testing';
import { datasetSnapshotCompletedV1 } from '@isams-sync/events';
import type { GrpcCallError } from '@isams-sync/grpc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnectorApp } from '../../src/app';
import {
  connectorClient,
  enrolSchool,
  enrolSchools,
  readAll,
  startConnector,
  useConnectorSuite,
  useSimulatorAndEnv,
} from '../support/connector-harness';
import type { ConnectorClient } from '../support/connector-harness';

const keyFor = (i: number) => `{BBBBBBBB-0000-0000-0000-${String(i).padStart(12, '0')}}`;

describe('connector: scheduled runs with two replicas on the same schools', () => {
  const world = useSimulatorAndEnv();
  let a: ConnectorApp;
  let b: ConnectorApp;
  let client: ConnectorClient;
  const tenants = Array.from({ length: 6 }, (_, i) => `sched-${i}`);

  beforeAll(async () => {
    // Settings first, with the schedulers off, so both replicas then see the same due schools.
    await enrolSchools(world.env, world.sim, tenants, (_, i) => ({
      seed: 20 + i,
      size: 'small',
      apiKey: keyFor(i),
      scheduleMinutes: 5,
    }));
    [a, b] = await Promise.all([
      startConnector(world.env.env({ SYNC_CONCURRENCY: '2' }), { owner: 'replica-a' }),
      startConnector(world.env.env({ SYNC_CONCURRENCY: '2' }), { owner: 'replica-b' }),
    ]);
    client = connectorClient(a.grpcPort);
  });
  afterAll(async () => {
    client?.close();
    await Promise.all([a?.stop(), b?.stop()]);
  });

  it('every due school gets exactly one scheduled run, fetched once, and its next slot is set', async () => {
    for (const t of tenants) {
      await eventually(
        async () => {
          const r = await client.listSyncRuns({ statuses: ['published'] }, client.md(t));
          return r.runs.length > 0;
        },
        `scheduled run of ${t}`,
        { timeoutMs: 60_000 },
      );
    }
    // Several more scheduler ticks on both replicas: still one run per school.
    await new Promise((r) => setTimeout(r, 2_000));
    const owners = new Set<string>();
    for (const t of tenants) {
      const all = await client.listSyncRuns({}, client.md(t));
      expect(all.runs).toHaveLength(1);
      expect(all.runs[0]?.trigger?.kind).toBe('schedule');
      const s = await client.getSettings({}, client.md(t));
      expect(Date.parse(s.nextRunAt)).toBeGreaterThan(Date.now() + 4 * 60_000);
      const run = await a.runs.get(t, all.runs[0]!.syncRunId);
      owners.add(run!.owner!);
    }
    expect([...owners].every((o) => o === 'replica-a' || o === 'replica-b')).toBe(true);
    const markers = (await readAll(world.env.rawTopic)).filter(
      (m) => m.event.type === datasetSnapshotCompletedV1.type,
    );
    for (const t of tenants) expect(markers.filter((m) => m.key === t)).toHaveLength(1);
  });
});

describe('connector: manual triggers (one run per school, queue, cancel, rate limit)', () => {
  const suite = useConnectorSuite({
    simulatorEnv: { SIM_SLOW_MS: '2500ms' },
    env: { SYNC_CONCURRENCY: '1', MANUAL_TRIGGER_LIMIT: '2' },
  });
  beforeAll(async () => {
    for (const [i, t] of ['busy', 'queued', 'limited'].entries()) {
      await enrolSchool(suite.sim, suite.client, t, { seed: 5, size: 'small', apiKey: keyFor(50 + i) });
    }
  });

  it('returns the running run instead of starting a second one, queues behind the concurrency limit and cancels a queued run', async () => {
    await suite.sim.fault('busy', 'slow', 1);
    const first = await suite.client.triggerSync({}, suite.client.md('busy'));
    await eventually(
      async () =>
        (await suite.client.getSyncRun({ syncRunId: first.run!.syncRunId }, suite.client.md('busy')))
          .status === 'fetching',
      'fetching',
    );
    const again = await suite.client.triggerSync({ dryRun: true }, suite.client.md('busy'));
    expect(again.alreadyActive).toBe(true);
    expect(again.run?.syncRunId).toBe(first.run?.syncRunId);
    const notCancellable = await suite.client
      .cancelSyncRun({ syncRunId: first.run!.syncRunId }, suite.client.md('busy'))
      .catch((e: unknown) => e);
    expect((notCancellable as GrpcCallError).errorCode).toBe('CONNECTOR_RUN_NOT_CANCELLABLE');

    // SYNC_CONCURRENCY=1: the other school's run waits in `requested`.
    const queued = await suite.client.triggerSync({}, suite.client.md('queued'));
    expect(queued.run?.status).toBe('requested');
    const cancelled = await suite.client.cancelSyncRun(
      { syncRunId: queued.run!.syncRunId },
      suite.client.md('queued'),
    );
    expect(cancelled.status).toBe('cancelled');
    // Another school cannot see or cancel it.
    const foreign = await suite.client
      .cancelSyncRun({ syncRunId: queued.run!.syncRunId }, suite.client.md('busy'))
      .catch((e: unknown) => e);
    expect((foreign as GrpcCallError).errorCode).toBe('CONNECTOR_RUN_NOT_FOUND');

    await eventually(
      async () =>
        (await suite.client.getSyncRun({ syncRunId: first.run!.syncRunId }, suite.client.md('busy')))
          .status === 'published',
      'busy published',
    );
    expect(
      (await suite.client.getSyncRun({ syncRunId: queued.run!.syncRunId }, suite.client.md('queued'))).status,
    ).toBe('cancelled');
    // The slot is free again: a new trigger starts a new run.
    const next = await suite.client.triggerSync({}, suite.client.md('queued'));
    expect(next.alreadyActive).toBe(false);
    expect(next.run?.syncRunId).not.toBe(queued.run?.syncRunId);
  });

  it('rate-limits manual triggers per school', async () => {
    for (let i = 0; i < 2; i++) {
      const { run } = await suite.client.triggerSync({}, suite.client.md('limited'));
      await eventually(
        async () =>
          (await suite.client.getSyncRun({ syncRunId: run!.syncRunId }, suite.client.md('limited')))
            .status === 'published',
        'published',
      );
    }
    const err = await suite.client.triggerSync({}, suite.client.md('limited')).catch((e: unknown) => e);
    expect((err as GrpcCallError).errorCode).toBe('CONNECTOR_TRIGGER_RATE_LIMITED');
    expect((err as GrpcCallError).code).toBe(8);
  });
});
