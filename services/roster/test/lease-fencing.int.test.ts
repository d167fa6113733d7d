import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import { createLogger } from '@isams-sync/logger';
import type { LeaseDocument } from '@isams-sync/mongo';
import { expireLease, uniqueName } from '@isams-sync/testing';
import type { RosterApp } from '../src/app';
import { ids } from '../src/use-cases/records';
import { COLLECTIONS } from '../src/adapters/mongo/roster-store';
import { rawDatasetsHandlers } from '../src/handlers/kafka/raw-datasets.handler';
import type { ProcessingStep } from '../src/use-cases/changeset-processor';
import { createHarness, storedRoster } from './support/harness';
import type { Harness } from './support/harness';
import { miniSchool } from './support/mini-school';
import { snapshotEvents } from './support/school-feed';
import type { Datasets } from './support/school-feed';

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);
const logger = createLogger({ service: 'roster-test', level: 'silent' });

/** Where the next holder to reach `step` of `changesetId` stops until `wake` is called. */
interface Pause {
  changesetId: string;
  step: ProcessingStep;
  arrived: () => void;
  gate: Promise<void>;
}

let h: Harness;
let a: RosterApp;
let b: RosterApp;
let pause: Pause | undefined;

beforeAll(async () => {
  h = await createHarness();
  const beforeStep = async (step: ProcessingStep, changesetId: string) => {
    const p = pause;
    if (p === undefined || p.changesetId !== changesetId || p.step !== step) return;
    pause = undefined;
    p.arrived();
    await p.gate;
  };
  a = await h.startApp({ beforeStep });
  b = await h.startApp({ beforeStep });
});
afterAll(async () => h?.close());

/**
 * Feeds a snapshot to one replica's raw-datasets handler (as its Kafka consumer would, without the
 * broker, so the test decides which replica processes it). Returns the background processing it
 * started (a chunk completing the run, or the marker, starts it).
 */
async function feed(app: RosterApp, tenantId: string, run: string, data: Datasets): Promise<Promise<void>[]> {
  const work: Promise<void>[] = [];
  const { handler: handle } = rawDatasetsHandlers({
    store: app.store,
    processor: app.processor,
    now: () => new Date(),
    background: (p) => {
      work.push(p);
      p.catch(() => undefined);
    },
  });
  const { chunks, marker } = snapshotEvents(tenantId, run, data);
  for (const e of [...chunks, marker] as CloudEvent[]) await handle(e, { logger } as never);
  return work;
}

describe('two replicas, one paused past its lease', () => {
  it('the paused holder’s late write of a changeset step is refused (ROSTER_TENANT_LEASE_LOST) and the other replica’s result stands', async () => {
    const t = uniqueName('paused');
    await Promise.all(await feed(a, t, 'r1', miniSchool(120)));
    const r2 = ids.changeset(t, 'r2');

    let arrived!: () => void;
    let wake!: () => void;
    const isPaused = new Promise<void>((r) => (arrived = r));
    pause = { changesetId: r2, step: 'apply', arrived, gate: new Promise<void>((r) => (wake = r)) };
    // A processes r2 and stalls right before applying it (a long GC pause, a blocked event loop).
    const byA = await feed(a, t, 'r2', miniSchool(120, { without: range(1, 3) }));
    await isPaused;
    expect((await a.store.getChangeset(t, r2))?.state).toBe('applying');

    // The stall outlasts A's lease: its generation expires and replica B takes the school over.
    const leases = h.db.db.collection<LeaseDocument>(COLLECTIONS.leases);
    const held = (await leases.find({ key: t }).sort({ generation: -1 }).limit(1).next())!;
    // (Written until it stands: A's keeper, not stalled, may have a renewal in flight — expireLease.)
    await expireLease(leases, { _id: held._id });
    await b.processor.advance(t, r2);
    const result = await b.store.getChangeset(t, r2);
    expect(result).toMatchObject({ state: 'done', outcome: 'applied', applyCount: 3 });
    const roster = await storedRoster(b.store, t);
    expect(roster.filter((e) => e.t === 'pupil' && e.status === 'removed')).toHaveLength(3);
    const newest = (await leases.find({ key: t }).sort({ generation: -1 }).limit(1).next())!;
    expect(newest.generation).toBe(held.generation + 1);

    // A wakes up believing it still holds the school and carries on with the step.
    wake();
    const outcomes = await Promise.allSettled(byA);
    expect(await b.store.getChangeset(t, r2)).toEqual(result);
    expect(await storedRoster(b.store, t)).toEqual(roster);
    const refused = outcomes.flatMap((o) => (o.status === 'rejected' ? [o.reason as unknown] : []));
    expect(refused).toEqual([expect.objectContaining({ code: 'ROSTER_TENANT_LEASE_LOST' })]);
    // Every step of r2 after A's last one was decided under B's token.
    const claims = await h.db.db
      .collection<{ _id: string; fence: { token: number } | null }>(COLLECTIONS.changesetSteps)
      .find({ recordId: r2 })
      .toArray();
    const byStep = new Map(claims.map((c) => [c._id.slice(r2.length + 1), c.fence?.token]));
    expect(byStep.get('applying')).toBe(newest.generation);
    expect(byStep.get('reporting')).toBe(newest.generation);
  });
});
