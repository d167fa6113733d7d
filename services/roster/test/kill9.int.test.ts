import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudEvent } from '@isams-sync/events';
import { eventually, getTestInfra, testServiceIdentityDir, uniqueName } from '@isams-sync/testing';
import { ids } from '../src/use-cases/records';
import { RosterStore } from '../src/adapters/mongo/roster-store';
import { createHarness } from './support/harness';
import type { Harness } from './support/harness';
import { miniSchool } from './support/mini-school';
import { publishSnapshot } from './support/school-feed';

const repoRoot = resolve(import.meta.dirname, '../../..');
let h: Harness;
let store: RosterStore;
const children: ChildProcess[] = [];

beforeAll(async () => {
  h = await createHarness();
  store = new RosterStore(h.db.db);
});
afterAll(async () => {
  for (const c of children) c.kill('SIGKILL');
  await h?.close();
});

/** The real service as a child process (`src/main.ts`), on the harness's topics and database. */
function startService(): ChildProcess {
  const infra = getTestInfra();
  // node itself (not npx), so SIGKILL hits the service process and nothing survives it
  const child = spawn(process.execPath, ['--import', 'tsx', 'services/roster/src/main.ts'], {
    cwd: repoRoot,
    stdio: 'ignore',
    env: {
      ...process.env,
      KAFKA_BROKERS: infra.kafkaBrokers.join(','),
      MONGO_URL: infra.mongoUrl,
      MONGO_DB: h.config.MONGO_DB,
      GRPC_PORT: '0',
      GRPC_IDENTITY_DIR: testServiceIdentityDir(),
      OPS_PORT: '0',
      LOG_LEVEL: 'warn',
      KAFKA_ENSURE_TOPICS: 'false',
      RAW_DATASETS_TOPIC: h.topics.raw,
      ROSTER_CHANGES_TOPIC: h.topics.changes,
      ROSTER_STATE_TOPIC: h.topics.state,
      ROSTER_CHANGES_DIRECTORY_TOPIC: h.topics.changesDirectory,
      ROSTER_STATE_DIRECTORY_TOPIC: h.topics.stateDirectory,
      SYNC_RUNS_TOPIC: h.topics.runs,
      RAW_DATASETS_GROUP_ID: h.config.RAW_DATASETS_GROUP_ID,
      SWEEP_INTERVAL_MS: '2s',
      // the killed process keeps its lease on the school until it expires; the restarted one then takes over
      TENANT_LEASE_TTL_MS: '15s',
    },
  });
  children.push(child);
  return child;
}

describe('kill -9 of the real process in the middle of a run', () => {
  it('a restarted process finishes the run: full roster, every change event, every report', async () => {
    const tenantId = uniqueName('kill');
    let child = startService();
    await publishSnapshot(h.producer, h.topics.raw, tenantId, 'run-k', miniSchool(1200));
    const csId = ids.changeset(tenantId, 'run-k');
    const killedIn = await eventually(
      async () => {
        const cs = await store.getChangeset(tenantId, csId);
        return cs && ['diffed', 'applying', 'publishing'].includes(cs.state) ? cs.state : undefined;
      },
      'the run to be in progress',
      { timeoutMs: 120_000 },
    );
    child.kill('SIGKILL');
    await new Promise((r) => child.once('exit', r));
    const stateAfterKill = (await store.getChangeset(tenantId, csId))!.state;
    expect(stateAfterKill).not.toBe('done');

    child = startService();
    const cs = await eventually(
      async () => {
        const c = await store.getChangeset(tenantId, csId);
        return c?.state === 'done' ? c : undefined;
      },
      'the run to finish after restart',
      { timeoutMs: 180_000 },
    );
    expect(cs.outcome).toBe('applied');
    expect((await store.loadStored(tenantId)).activeCounts.pupil).toBe(1200);
    const total = cs.changeCount!;
    const changes = await eventually(
      () => {
        const mine = h.events.changes.filter((e: CloudEvent) => e.tenantid === tenantId);
        return new Set(mine.map((e) => e.id)).size >= total ? mine : undefined;
      },
      'every change event',
      { timeoutMs: 90_000 },
    );
    expect(new Set(changes.map((e) => e.id)).size).toBe(total);
    const reports = await eventually(
      () => {
        const r = new Set(
          h.events.runs
            .filter((e) => e.tenantid === tenantId)
            .map((e) => (e.data as { status: string }).status),
        );
        return r.has('applied') ? r : undefined;
      },
      'the outcome report',
      { timeoutMs: 90_000 },
    );
    expect([...reports].sort()).toEqual(['applied', 'applying']);
    expect(['diffed', 'applying', 'publishing']).toContain(killedIn);
    child.kill('SIGTERM');
    await new Promise((r) => child.once('exit', r));
  }, 400_000);
});
