import { startSystem, type RunningSystem } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  captureReference,
  ChangeEventLog,
  expectSameAsReference,
  finishAfterCrash,
  PrivateInfra,
  School,
  serviceClients,
  type Reference,
  type ServiceClients,
} from '../support';

const SEED = 23;

/**
 * Kafka and FerretDB restarted under the running services in the middle of a sync (on a private
 * Kafka + FerretDB, so the shared infrastructure is never touched): the outcome equals that of a
 * reference school that synced while everything was up.
 */
describe('e2e: Kafka and FerretDB restarted mid-sync change nothing in the outcome', () => {
  let infra: PrivateInfra;
  let system: RunningSystem;
  let clients: ServiceClients;
  let changes: ChangeEventLog;
  let reference: Reference;

  beforeAll(async () => {
    infra = await PrivateInfra.up();
    system = await startSystem({
      infra,
      env: {
        connector: { RUN_LEASE_TTL_MS: '6s', STALE_SWEEP_INTERVAL_MS: '2s' },
        roster: { SWEEP_INTERVAL_MS: '3s' },
      },
    });
    clients = serviceClients(system);
    changes = await ChangeEventLog.start(infra.kafkaBrokers, system.topics.changes);
    const ref = await School.create(system, 'e2e-infra-ref', SEED);
    const run = await ref.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    const added = Object.values(run.rosterCounts ?? {}).reduce((n, c) => n + (c.added ?? 0), 0);
    reference = await captureReference(clients, changes, ref, [run.syncRunId], added);
  }, 600_000);

  afterAll(async () => {
    await changes?.stop().catch(() => undefined);
    clients?.close();
    await system?.stop().catch(() => undefined);
    infra?.destroy();
  }, 180_000);

  it('Kafka restarted while the connector publishes', async () => {
    const school = await School.create(system, 'e2e-infra-kafka', SEED);
    const runId = await school.trigger();
    const seen = await school.waitFor(
      runId,
      (r) => r.progress.chunksPublished > 0 || r.status === 'published',
    );
    expect(seen.terminal).toBe(false);
    await infra.stopServer('kafka');
    await new Promise((r) => setTimeout(r, 3000));
    infra.restart();
    const run = await finishAfterCrash(school, runId);
    expect(run.status, `${JSON.stringify(run.error)}\n${system.logs()}`).toBe('applied');
    await expectSameAsReference(clients, changes, school, [run.syncRunId], reference);
  }, 600_000);

  it('FerretDB restarted while the roster applies', async () => {
    const school = await School.create(system, 'e2e-infra-ferretdb', SEED);
    const runId = await school.trigger();
    const seen = await school.waitFor(runId, (r) => r.status === 'applying');
    expect(seen.status).toBe('applying');
    await infra.stopServer('ferretdb');
    await new Promise((r) => setTimeout(r, 3000));
    infra.restart();
    const run = await finishAfterCrash(school, runId);
    expect(run.status, `${JSON.stringify(run.error)}\n${system.logs()}`).toBe('applied');
    await expectSameAsReference(clients, changes, school, [run.syncRunId], reference);
  }, 600_000);
});
