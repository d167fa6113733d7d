import { createLogger } from '@isams-sync/logger';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RunRecord } from '../../src/domain/run-record';
import type { SchoolSchedule } from '../../src/domain/schedule';
import type { SchoolSettings } from '../../src/domain/school-settings';
import { SyncEngine } from '../../src/use-cases/sync-engine';
import type { SyncEngineDeps } from '../../src/use-cases/sync-engine';
import {
  ConnectorWorld,
  enrolSchool,
  inMemoryPorts,
  testEngineOptions,
} from '../support/in-memory/in-memory-ports';
import { ProcessLife } from '../support/in-memory/process-life';

// A run that ends well clears the school's failure streak and leaves its next run time alone: the
// time is the scheduler's (set when it started the run) or the admin's (a save while the run went
// on), never the one the run read at its start. Only a failed run moves it (its retry).

const TENANT = 'school-s';
const DUE = new Date('2030-01-01T10:00:00Z');
const SAVED = new Date('2030-01-01T12:30:00Z');
const logger = createLogger({ service: 'run-schedule', level: 'silent' });
const engines: SyncEngine[] = [];
afterEach(async () => {
  while (engines.length > 0) await engines.pop()!.stop(1_000);
});

function worldOf(failures = 0): ConnectorWorld {
  const world = new ConnectorWorld(
    {
      chunkSize: 2,
      documentSha256: 'sha',
      records: { currentStaff: [{ Id: 's1' }], yearGroups: [{ Id: 'y7' }] },
    },
    30_000,
  );
  enrolSchool(world, TENANT, DUE);
  world.schedules.get(TENANT)!.consecutiveFailures = failures;
  return world;
}

/** The admin's save while the run goes on: another schedule (a new next run time), or sync turned off. */
function saveDuringRun(
  world: ConnectorWorld,
  change: Partial<SchoolSettings>,
  schedule: Partial<SchoolSchedule>,
): void {
  Object.assign(world.settings.get(TENANT)!, change);
  Object.assign(world.schedules.get(TENANT)!, schedule);
}

const stored = (world: ConnectorWorld) => ({ ...world.settings.get(TENANT), ...world.schedules.get(TENANT) });

async function engineOf(
  world: ConnectorWorld,
  adapt: (deps: SyncEngineDeps) => SyncEngineDeps,
): Promise<SyncEngine> {
  const engine = new SyncEngine(
    adapt({ ...inMemoryPorts(world, new ProcessLife()), logger }),
    testEngineOptions(30_000),
  );
  engines.push(engine);
  await engine.start();
  return engine;
}

async function runOnce(world: ConnectorWorld, engine: SyncEngine): Promise<RunRecord> {
  const before = new Set(world.runs.keys());
  await engine.trigger(TENANT, { kind: 'manual', actor: 'admin@school-s' }, false);
  await engine.drain();
  return world.runs.get([...world.runs.keys()].find((k) => !before.has(k))!)!;
}

describe('a run’s end and the school’s schedule', () => {
  it('a published run keeps the next run time the admin saved while it ran', async () => {
    const world = worldOf();
    const engine = await engineOf(world, (deps) => ({
      ...deps,
      onStep: async (step) => {
        if (step === 'marker-attempted') saveDuringRun(world, { scheduleMinutes: 150 }, { nextRunAt: SAVED });
      },
    }));
    const run = await runOnce(world, engine);
    expect(run.status).toBe('published');
    expect(stored(world)).toMatchObject({ nextRunAt: SAVED, consecutiveFailures: 0 });
  });

  it('an unchanged run keeps a sync the admin turned off while it ran off', async () => {
    const world = worldOf();
    let saveNow = false;
    const engine = await engineOf(world, (deps) => ({
      ...deps,
      freshness: {
        ...deps.freshness,
        advance: async (...args) => {
          await deps.freshness.advance(...args);
          if (saveNow) saveDuringRun(world, { enabled: false }, { nextRunAt: null });
        },
      },
    }));
    const first = await runOnce(world, engine);
    await engine.applyRosterReport({
      tenantId: TENANT,
      syncRunId: first._id,
      status: 'applied',
      sequence: 1,
    });
    saveNow = true;
    const second = await runOnce(world, engine);
    expect(second.status).toBe('unchanged');
    expect(stored(world)).toMatchObject({ enabled: false, nextRunAt: null });
  });

  it('a run that ends well after failures clears the streak and keeps the retry’s time', async () => {
    const world = worldOf(3);
    const engine = await engineOf(world, (deps) => deps);
    expect((await runOnce(world, engine)).status).toBe('published');
    expect(stored(world)).toMatchObject({ nextRunAt: DUE, consecutiveFailures: 0 });
  });

  it('the scheduler moves a due time beside settings that are off on, without a run', async () => {
    const world = worldOf();
    world.settings.get(TENANT)!.enabled = false;
    const engine = await engineOf(world, (deps) => deps);
    const now = new Date(DUE.getTime() + 1_000);
    vi.useFakeTimers({ toFake: ['Date'], now });
    try {
      await engine.schedulerTick();
    } finally {
      vi.useRealTimers();
    }
    expect(world.runs.size).toBe(0);
    expect(stored(world)).toMatchObject({
      enabled: false,
      nextRunAt: new Date(now.getTime() + 60 * 60_000),
      consecutiveFailures: 0,
    });
  });
});
