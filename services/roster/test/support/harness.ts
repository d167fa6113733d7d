import type { CloudEvent } from '@isams-sync/events';
import { createEventProducer, createKafkaClient, fromKafkaMessage, tailTopic } from '@isams-sync/kafka';
import type { EventProducer, KafkaClient, TopicTail } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import {
  createTestDatabase,
  createTestTopics,
  getTestInfra,
  rosterTopicEnv,
  testServiceIdentityDir,
  uniqueName,
} from '@isams-sync/testing';
import { eventually } from '@isams-sync/testing';
export { storedRoster } from './stored-roster';
import type { TestDatabase } from '@isams-sync/testing';
import { createRosterApp } from '../../src/app';
import type { RosterApp, RosterAppOverrides } from '../../src/app';
import { loadRosterConfig } from '../../src/config';
import type { RosterConfig } from '../../src/config';
import type { ProcessingStep } from '../../src/use-cases/changeset-processor';
import type { ChangesetDoc } from '../../src/use-cases/records';
import { ids } from '../../src/use-cases/records';

export interface Harness {
  db: TestDatabase;
  topics: {
    raw: string;
    changes: string;
    state: string;
    runs: string;
    changesDirectory: string;
    stateDirectory: string;
  };
  config: RosterConfig;
  client: KafkaClient;
  producer: EventProducer;
  /** Every event seen on the output topics so far. */
  events: { changes: CloudEvent[]; state: CloudEvent[]; runs: CloudEvent[] };
  /** Keys of the tombstones (null values) seen on the state topic, in order. */
  stateTombstones: string[];
  /** Starts an app on the harness's database and topics (`config` overrides, e.g. lease timings). */
  startApp(overrides?: RosterAppOverrides, config?: Partial<RosterConfig>): Promise<RosterApp>;
  close(): Promise<void>;
}

export async function createHarness(): Promise<Harness> {
  const infra = getTestInfra();
  const db = await createTestDatabase('roster');
  const [raw, changes, state, runs, changesDirectory, stateDirectory] = await createTestTopics([
    { prefix: 'raw', partitions: 2 },
    { prefix: 'changes' },
    { prefix: 'state' },
    { prefix: 'runs' },
    { prefix: 'changes-directory' },
    { prefix: 'state-directory' },
  ]);
  const topics = {
    raw: raw!,
    changes: changes!,
    state: state!,
    runs: runs!,
    changesDirectory: changesDirectory!,
    stateDirectory: stateDirectory!,
  };
  const config = loadRosterConfig({
    KAFKA_BROKERS: infra.kafkaBrokers.join(','),
    MONGO_URL: infra.mongoUrl,
    MONGO_DB: db.name,
    GRPC_PORT: '0',
    GRPC_IDENTITY_DIR: testServiceIdentityDir(),
    OPS_PORT: '0',
    LOG_LEVEL: 'warn',
    KAFKA_ENSURE_TOPICS: 'false',
    ...rosterTopicEnv(topics),
    RAW_DATASETS_GROUP_ID: uniqueName('roster'),
    SHUTDOWN_TIMEOUT_MS: '4s',
  });
  const logger = createLogger({
    service: 'roster-test',
    level: (process.env.ROSTER_TEST_LOG as 'warn' | undefined) ?? 'warn',
  });
  const client = createKafkaClient({ brokers: infra.kafkaBrokers, clientId: 'roster-test', logger });
  const producer = createEventProducer(client);
  const events = { changes: [] as CloudEvent[], state: [] as CloudEvent[], runs: [] as CloudEvent[] };
  const stateTombstones: string[] = [];
  // Plain observers (no per-message commits): a large school's first sync is ~80,000 events, which
  // the services' consumer runner collects far slower than the roster publishes them.
  const consumers: TopicTail[] = [];
  for (const [topic, sink] of [
    [topics.changes, events.changes],
    [topics.state, events.state],
    [topics.runs, events.runs],
  ] as const) {
    const tail = tailTopic(client, topic, (records) => {
      for (const r of records)
        if (r.value === null) stateTombstones.push(r.key?.toString() ?? '');
        else sink.push(fromKafkaMessage(r));
    });
    consumers.push(tail);
  }
  const apps: RosterApp[] = [];
  return {
    db,
    topics,
    config,
    client,
    producer,
    events,
    stateTombstones,
    async startApp(overrides = {}, configOverrides = {}) {
      const app = createRosterApp(
        { ...config, ...configOverrides },
        {
          logger,
          disableSweeper: true,
          sessionTimeoutMs: 6000,
          ...overrides,
        },
      );
      await app.start();
      apps.push(app);
      return app;
    },
    async close() {
      for (const a of apps) await a.stop().catch(() => undefined);
      for (const c of consumers) await c.stop();
      await producer.disconnect();
      await db.drop();
    },
  };
}

/** Waits for a run's changeset to reach `done` or `failed`. */
export async function runFinished(
  app: RosterApp,
  tenantId: string,
  syncRunId: string,
  kind: 'sync' | 'approval' = 'sync',
  timeoutMs?: number,
): Promise<ChangesetDoc> {
  return eventually(
    async () => {
      const cs = await app.store.getChangeset(tenantId, ids.changeset(tenantId, syncRunId, kind));
      return cs?.state === 'done' || cs?.state === 'failed' ? cs : undefined;
    },
    `run ${syncRunId} to finish`,
    { timeoutMs: timeoutMs ?? 90_000 },
  );
}

/** The fields of a published roster event's data (a run's status, a roster change) that the tests read. */
export interface PublishedData {
  status: string;
  sequence: number;
  change?: string;
  entityType?: string;
  entityId?: string;
  heldBatchId?: string;
  holdKind?: string;
  removal?: { reason: string; approvedBy?: string; heldBatchId?: string };
  restoration?: { reason: string; undoneBy?: string };
  error?: { code: string };
}

/** A published event's data as {@link PublishedData}. */
export const publishedData = (e: CloudEvent): PublishedData => e.data as PublishedData;

/** Matches the published events of one school (and of one of its runs, when `runId` is given). */
export const ofSchoolRun =
  (tenantId: string, runId?: string) =>
  (e: CloudEvent): boolean =>
    e.tenantid === tenantId && (runId === undefined || e.syncrunid === runId);

/** Waits until `n` events matching `pred` were collected. */
export function eventsFor(
  list: CloudEvent[],
  pred: (e: CloudEvent) => boolean,
  n: number,
  what: string,
): Promise<CloudEvent[]> {
  return eventually(
    () => {
      const got = list.filter(pred);
      return got.length >= n ? got : undefined;
    },
    what,
    { timeoutMs: 90_000 },
  );
}

/**
 * Makes `app` hold the tenant (its lease and in-process lock) until `release()` is called;
 * resolves once it holds it. `done` settles when the hold ended.
 */
export async function holdTenant(
  app: RosterApp,
  tenantId: string,
): Promise<{ release: () => void; done: Promise<unknown> }> {
  let release!: () => void;
  let holding!: () => void;
  const isHolding = new Promise<void>((r) => (holding = r));
  const done = app.processor.withTenant(tenantId, async () => {
    holding();
    await new Promise<void>((r) => (release = r));
  });
  await isHolding;
  return { release: () => release(), done };
}

/**
 * Holds one changeset before one step until `release()`: start an app with `overrides` and the
 * changeset waits there (`reached` turns true); any other changeset or step passes.
 */
export function pauseBeforeStep(
  changesetId: string,
  step: ProcessingStep,
): { overrides: RosterAppOverrides; readonly reached: boolean; release: () => void } {
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let reached = false;
  return {
    overrides: {
      beforeStep: async (s, id) => {
        if (id !== changesetId || s !== step) return;
        reached = true;
        await released;
      },
    },
    get reached() {
      return reached;
    },
    release: () => release(),
  };
}
