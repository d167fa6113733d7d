import { expect } from 'vitest';
import type { ChangeEventLog } from './change-events';
import type { ServiceClients } from './grpc-clients';
import { rosterSnapshot, snapshotDiff, type RosterSnapshot } from './roster-snapshot';
import type { School, SyncRun } from './school';

/** What an uncrashed school ended with: the yardstick of a crashed one. */
export interface Reference {
  snapshot: RosterSnapshot;
  facts: string[];
}

export async function captureReference(
  clients: ServiceClients,
  changes: ChangeEventLog,
  school: School,
  runIds: readonly string[],
  expectedEvents: number,
): Promise<Reference> {
  await changes.waitForDistinct(school.id, expectedEvents);
  return { snapshot: await rosterSnapshot(clients, school.id), facts: changes.facts(school.id, runIds) };
}

/**
 * Waits for a run disturbed by a crash to finish; a run the connector failed as interrupted (the
 * documented outcome when it died before the marker) is run again, as the admin would.
 * Returns the run that applied.
 */
export async function finishAfterCrash(school: School, runId: string): Promise<SyncRun> {
  let run = await school.waitRun(runId, 300_000);
  for (let i = 0; i < 2 && run.status === 'failed' && run.error?.code === 'CONNECTOR_RUN_INTERRUPTED'; i++)
    run = await school.sync();
  return run;
}

/** The crashed school's roster and distinct change events equal the reference's. */
export async function expectSameAsReference(
  clients: ServiceClients,
  changes: ChangeEventLog,
  school: School,
  runIds: readonly string[],
  reference: Reference,
): Promise<void> {
  await changes.waitForDistinct(school.id, reference.facts.length);
  expect(snapshotDiff(await rosterSnapshot(clients, school.id), reference.snapshot)).toEqual([]);
  const facts = changes.facts(school.id, runIds);
  // Deterministic ids: one id per fact, so a re-published event is a duplicate, never a new fact.
  expect(facts.length).toBe(reference.facts.length);
  expect(facts).toEqual(reference.facts);
}
