import { createLogger } from '@isams-sync/logger';
import { afterEach, describe, expect, it } from 'vitest';
import { MongoErrors } from '@isams-sync/mongo';
import { SyncEngine } from '../../src/use-cases/sync-engine';
import type { SyncEngineDeps } from '../../src/use-cases/sync-engine';
import {
  ConnectorWorld,
  enrolSchool,
  inMemoryPorts,
  testEngineOptions,
} from '../support/in-memory/in-memory-ports';
import type { ScriptedSchool } from '../support/in-memory/in-memory-ports';
import { ProcessLife } from '../support/in-memory/process-life';

// The work queue and a run requested on the same replica: the request hands its run to the queue,
// which starts it from the record it just wrote; a run that cannot start then stays queued.

const TENANT = 'school-q';
const SCHOOL: ScriptedSchool = { chunkSize: 2, records: { currentStaff: [{ Id: 's1' }, { Id: 's2' }] } };
const logger = createLogger({ service: 'work-queue', level: 'silent' });

const engines: SyncEngine[] = [];
afterEach(async () => {
  while (engines.length > 0) await engines.pop()!.stop(1_000);
});

async function started(
  adapt: (deps: SyncEngineDeps) => SyncEngineDeps = (d) => d,
): Promise<{ world: ConnectorWorld; life: ProcessLife; engine: SyncEngine }> {
  const world = new ConnectorWorld(SCHOOL, 30_000);
  enrolSchool(world, TENANT, null);
  const life = new ProcessLife();
  const engine = new SyncEngine(adapt({ ...inMemoryPorts(world, life), logger }), testEngineOptions(30_000));
  engines.push(engine);
  await engine.start();
  await engine.drain();
  return { world, life, engine };
}

const trigger = (engine: SyncEngine) =>
  engine.trigger(TENANT, { kind: 'manual', actor: 'admin@school-q' }, false);

/** A run triggered while another process holds the school's run lease: it stays queued (`requested`). */
async function queuedBehindAnotherHolder(
  world: Awaited<ReturnType<typeof started>>['world'],
  engine: Awaited<ReturnType<typeof started>>['engine'],
) {
  const elsewhere = {
    generation: 1,
    expiresAt: Date.now() + 60_000,
    released: false,
    abort: new AbortController(),
  };
  world.leases.set(`run:${TENANT}`, elsewhere);
  const { run } = await trigger(engine);
  await engine.drain();
  expect(world.runs.get(run._id)?.status).toBe('requested');
  return { run, elsewhere };
}

describe('the work queue and a run requested here', () => {
  it('starts the run from its record: neither the queue nor the run is read between its request and its start', async () => {
    const { world, life, engine } = await started();
    const from = life.steps.length;
    const { run } = await trigger(engine);
    await engine.drain();
    expect(world.runs.get(run._id)?.status).toBe('published');
    const steps = life.steps.slice(from);
    const between = steps.slice(steps.indexOf('runs.recordRequested ✓'), steps.indexOf('runs.applyStep'));
    expect(between).toContain('leases.acquire');
    expect(between).not.toContain('queue.list');
    expect(between).not.toContain('runs.get');
    // The run's reads before its request began beside the lease, not after the start.
    expect(between).toEqual(expect.arrayContaining(['settings.get', 'snapshots.get', 'plans.get']));
  });

  it('leaves a run it cannot start (the school held elsewhere) queued, and starts it from the queue later', async () => {
    const { world, engine } = await started();
    const { run, elsewhere } = await queuedBehindAnotherHolder(world, engine);
    expect(world.queue.has(run._id)).toBe(true);

    elsewhere.released = true;
    await engine.drain();
    expect(world.runs.get(run._id)?.status).toBe('published');
    expect(world.queue.has(run._id)).toBe(false);
  });

  it('fails the run, transiently, when a read before its request fails (nothing left unhandled)', async () => {
    // The trigger's read of the settings succeeds; the run's own, begun while it starts, fails.
    let reads = 0;
    const { world, engine } = await started((deps) => ({
      ...deps,
      settings: {
        ...deps.settings,
        get: (tenantId: string) =>
          ++reads === 2 ? Promise.reject(MongoErrors.MONGO_UNAVAILABLE()) : deps.settings.get(tenantId),
      },
    }));
    const { run } = await trigger(engine);
    await engine.drain();
    const ended = world.runs.get(run._id)!;
    expect(ended.status).toBe('failed');
    expect(ended.error).toMatchObject({ code: 'CONNECTOR_RUN_FAILED', transient: true });
    expect(world.fetches).toEqual([]);
  });

  it('ends a run queued before the school was paused cancelled (CONNECTOR_SYNC_DISABLED) when it would start: nothing fetched, its end announced, its slot and queue entry freed', async () => {
    const { world, life, engine } = await started();
    const { run, elsewhere } = await queuedBehindAnotherHolder(world, engine);
    // The admin pauses the school's sync while its run waits (PutSettings enabled: false).
    world.settings.get(TENANT)!.enabled = false;

    elsewhere.released = true;
    const from = life.steps.length;
    await engine.drain();
    const ended = world.runs.get(run._id)!;
    expect(ended.status).toBe('cancelled');
    expect(ended.error).toMatchObject({ code: 'CONNECTOR_SYNC_DISABLED', transient: false });
    expect(ended.error?.adminAction).toBeTruthy();
    expect(ended.finishedAt).toBeInstanceOf(Date);
    expect(ended.fetchStartedAt).toBeUndefined();
    expect(world.fetches).toEqual([]);
    expect(life.steps.slice(from)).not.toContain('keys.reveal');
    const announced = world.events.filter((e) => e.syncRunId === run._id && e.kind === 'run-update');
    expect(announced.map((e) => (e.kind === 'run-update' ? e.status : ''))).toEqual([
      'requested',
      'cancelled',
    ]);
    expect(world.events.some((e) => e.kind !== 'run-update')).toBe(false);
    expect([...world.queue.values()]).toEqual([]);
    expect([...world.slots.values()]).toEqual([]);
    // The school's next run, once sync is on again, starts as usual.
    world.settings.get(TENANT)!.enabled = true;
    const { run: next } = await trigger(engine);
    await engine.drain();
    expect(world.runs.get(next._id)?.status).toBe('published');
  });

  it('lets a run already fetching when the school is paused finish (the pause stops the next ones)', async () => {
    const paused: { world?: ConnectorWorld } = {};
    const setup = await started((deps) => ({
      ...deps,
      onStep: (step) => {
        if (step === 'publishing') paused.world!.settings.get(TENANT)!.enabled = false;
      },
    }));
    const world = (paused.world = setup.world);
    const { run } = await trigger(setup.engine);
    await setup.engine.drain();
    expect(world.settings.get(TENANT)!.enabled).toBe(false);
    expect(world.runs.get(run._id)?.status).toBe('published');
  });
});

describe("a school's fetch order", () => {
  it('numbers each run of the school as it starts fetching, on whichever engine sharing the database starts it; the marker carries the number', async () => {
    const { world, engine } = await started();
    const other = new SyncEngine(
      { ...inMemoryPorts(world, new ProcessLife()), logger },
      { ...testEngineOptions(30_000), owner: 'replica-2' },
    );
    engines.push(other);
    await other.start();
    const ids: string[] = [];
    for (const e of [engine, other, engine]) {
      const { run } = await trigger(e);
      await e.drain();
      ids.push(run._id);
    }
    const markers = ids.map((id) =>
      world.events.flatMap((e) => (e.kind === 'marker' && e.syncRunId === id ? [e.data.fetchSequence] : [])),
    );
    expect(markers).toEqual([[1], [2], [3]]);
    expect(ids.map((id) => world.runs.get(id)?.fetchSequence)).toEqual([1, 2, 3]);
  });
});
