import { datasetSnapshotCompletedV1 } from '@isams-sync/events';
import { describe, expect } from 'vitest';
import {
  connectorTest as it,
  enrolSchools,
  readAll,
  readRun,
  runReaching,
  useSimulatorAndEnv,
} from '../support/connector-harness';

// The roster orders a school's runs by the marker's `fetchSequence`, never by `fetchedAt` (the clock
// of whichever replica fetched the run: replicas' clocks may disagree). The sequence comes from the
// school's counter in the shared database, so it increases from run to run of the school whichever
// replica runs them.

const TENANT = 'fetch-order';
const SECOND = 'fetch-order-other';

describe('connector: the fetch order of a school’s runs, across replicas', () => {
  const world = useSimulatorAndEnv();

  it('each run of a school fetched after another carries a greater fetch sequence in its marker, whichever of two replicas ran it', async ({
    connectors,
  }) => {
    const { env, sim } = world;
    await enrolSchools(env, sim, [TENANT, SECOND], (_, i) => ({
      seed: 90 + i,
      size: 'small',
      apiKey: `{EEEEEEEE-0000-0000-0000-00000000000${i}}`,
    }));
    const a = await connectors.start(env.env({ SCHEDULER_ENABLED: 'false' }), { owner: 'replica-a' });
    const b = await connectors.start(env.env({ SCHEDULER_ENABLED: 'false' }), { owner: 'replica-b' });
    const run = async (port: number, tenantId: string) => {
      const c = connectors.client(port);
      const { run: requested } = await c.triggerSync({}, c.md(tenantId));
      const id = requested!.syncRunId;
      await runReaching(env, tenantId, id, ['published'], `run ${id} published`, {
        signal: connectors.signal,
      });
      return id;
    };
    // One after another (a school has one run at a time), on A, B, A; the other school between.
    const ids = [await run(a.grpcPort, TENANT), await run(b.grpcPort, TENANT)];
    const other = await run(b.grpcPort, SECOND);
    ids.push(await run(a.grpcPort, TENANT));

    const markers = (await readAll(env.rawTopic)).filter(
      (m) => m.event.type === datasetSnapshotCompletedV1.type,
    );
    const sequenceOf = (id: string) =>
      markers
        .filter((m) => (m.event.data as { syncRunId: string }).syncRunId === id)
        .map((m) => (m.event.data as { fetchSequence?: number }).fetchSequence);
    const sequences = ids.map((id) => sequenceOf(id));
    for (const s of sequences) expect(s).toHaveLength(1);
    const [first, second, third] = sequences.map((s) => s[0]);
    expect(first).toBeGreaterThanOrEqual(1);
    expect(second).toBeGreaterThan(first!);
    expect(third).toBeGreaterThan(second!);
    // The run record has the number its marker carries (a re-sent marker is built from it).
    for (const [i, id] of ids.entries())
      expect((await readRun(env, TENANT, id))?.fetchSequence).toBe(sequences[i]![0]);
    // Another school's runs are numbered on their own.
    expect(sequenceOf(other)).toEqual([1]);
  });
});
