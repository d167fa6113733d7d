import { createLogger } from '@isams-sync/logger';
import { afterEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/domain/run-record';
import type { Spool } from '../../src/use-cases/ports';
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

// What a started run does beside its fetch (run-execution `begin`): its `fetching` event and the
// spool's first reset go on while iSAMS is asked; nothing is spooled before the reset landed,
// and neither is skipped — a failure of either fails the run, as it did before the fetch.

const TENANT = 'school-c';
const SCHOOL: ScriptedSchool = {
  chunkSize: 2,
  records: { currentStaff: [{ Id: 's1' }, { Id: 's2' }, { Id: 's3' }], yearGroups: [{ Id: 'y7' }] },
};
const logger = createLogger({ service: 'run-start-overlap', level: 'silent' });

const engines: SyncEngine[] = [];
afterEach(async () => {
  while (engines.length > 0) await engines.pop()!.stop(1_000);
});

/** A macrotask later: the in-memory ports land every call within one. */
const later = () => new Promise<void>((resolve) => setImmediate(resolve));

/** The school's one manual run to its end, on an engine whose ports `adapt` changes. */
async function runWith(
  adapt: (deps: SyncEngineDeps) => SyncEngineDeps,
): Promise<{ world: ConnectorWorld; run: RunRecord }> {
  const world = new ConnectorWorld(SCHOOL, 30_000);
  enrolSchool(world, TENANT, null);
  const engine = new SyncEngine(adapt({ ...inMemoryPorts(world, new ProcessLife()), logger }), {
    ...testEngineOptions(30_000),
  });
  engines.push(engine);
  await engine.start();
  await engine.trigger(TENANT, { kind: 'manual', actor: 'admin@school-c' }, false);
  await engine.drain();
  return { world, run: [...world.runs.values()][0]! };
}

/** The spools of `deps`, each run's first reset landing a macrotask late (or failing), every call logged. */
function lateResets(deps: SyncEngineDeps, log: string[], fail = false): SyncEngineDeps {
  return {
    ...deps,
    spools: {
      removeAllExcept: (keep) => deps.spools.removeAllExcept(keep),
      forRun: (syncRunId) => {
        const spool = deps.spools.forRun(syncRunId);
        let resets = 0;
        const logged: Spool = {
          reset: async () => {
            const first = resets++ === 0;
            log.push('reset');
            if (first) await later();
            if (first && fail) {
              log.push('reset failed');
              throw new Error('disk full');
            }
            await spool.reset();
            log.push('reset landed');
          },
          remove: async () => (log.push('remove'), spool.remove()),
          discard: async (ids) => (log.push('discard'), spool.discard(ids)),
          appendLines: async (id, lines) => (log.push(`append ${id}`), spool.appendLines(id, lines)),
          touch: async (id) => (log.push(`touch ${id}`), spool.touch(id)),
          close: async () => (log.push('close'), spool.close()),
          chunks: (id, records, opts) => (log.push(`chunks ${id}`), spool.chunks(id, records, opts)),
        };
        return logged;
      },
    },
  };
}

const statusesOf = (world: ConnectorWorld, run: RunRecord) =>
  world.events.flatMap((e) => (e.syncRunId === run._id && e.kind === 'run-update' ? [e.status] : []));

describe('a run’s spool reset and `fetching` event beside its fetch', () => {
  it('the fetch is asked for while the first reset is in flight, and spools nothing before it landed', async () => {
    const log: string[] = [];
    const { world, run } = await runWith((deps) => lateResets(deps, log));
    expect(run.status).toBe('published');
    expect(world.fetches).toHaveLength(1);
    const landed = log.indexOf('reset landed');
    expect(landed).toBeGreaterThan(0);
    // Every use of the spool but the reset itself comes after it landed.
    expect(log.slice(0, landed).filter((l) => l !== 'reset')).toEqual([]);
    expect(log.slice(landed)).toContain('touch currentStaff');
    // And the records went out whole: nothing spooled was reset away.
    const staff = world.events.flatMap((e) =>
      e.kind === 'chunk' && e.datasetId === 'currentStaff' ? e.records : [],
    );
    expect(staff).toEqual(['{"Id":"s1"}', '{"Id":"s2"}', '{"Id":"s3"}']);
  });

  it('a first reset that fails fails the run (no marker), once the fetch is in; its spool is removed after it', async () => {
    const log: string[] = [];
    const { world, run } = await runWith((deps) => lateResets(deps, log, true));
    expect(run.status).toBe('failed');
    expect(world.events.filter((e) => e.syncRunId === run._id && e.kind === 'marker')).toEqual([]);
    const statuses = statusesOf(world, run);
    expect(statuses[0]).toBe('requested');
    expect(statuses.at(-1)).toBe('failed');
    expect(statuses.filter((s) => s === 'failed')).toHaveLength(1);
    expect(log.indexOf('remove')).toBeGreaterThan(log.indexOf('reset failed'));
    expect([...world.spools.keys()]).toEqual([]);
  });

  it('a `fetching` event that cannot be published fails the run before its outcome is decided, and its failure is announced after it', async () => {
    let refused = false;
    const { world, run } = await runWith((deps) => ({
      ...deps,
      publisher: {
        ...deps.publisher,
        publishRunUpdate: async (r) => {
          if (r.status === 'fetching' && !refused) {
            refused = true;
            await later();
            throw new Error('broker unreachable');
          }
          return deps.publisher.publishRunUpdate(r);
        },
        publishChunks: (...args) => deps.publisher.publishChunks(...args),
        publishMarker: (r) => deps.publisher.publishMarker(r),
      },
    }));
    expect(refused).toBe(true);
    expect(run.status).toBe('failed');
    expect(run.error?.code).toBe('CONNECTOR_RUN_FAILED');
    // iSAMS was asked (the run was started under its lease), but nothing of the fetch was decided.
    expect(world.fetches).toHaveLength(1);
    expect(run.fetchedAt).toBeUndefined();
    expect(world.events.filter((e) => e.syncRunId === run._id && e.kind === 'marker')).toEqual([]);
    // Announced after the lost `fetching` event (progress events of the fetch may come between).
    const statuses = statusesOf(world, run);
    expect(statuses[0]).toBe('requested');
    expect(statuses.at(-1)).toBe('failed');
    expect(statuses.filter((s) => s === 'failed')).toHaveLength(1);
  });
});
