/**
 * Roster benchmark, large simulated school (3 000 pupils, 6 000 contact people, 30 000 set-list rows):
 * normalise + diff + guard + apply + publish of a first sync, and of a no-change resync, each against a
 * baseline measured in the same run on the same database: ONE bulk insert (`insertMany`) of the same
 * normalised entity documents (one document per entity). Needs the local Kafka and FerretDB
 * (`KAFKA_BROKERS`, `MONGO_URL`, defaults 127.0.0.1:19092 / 127.0.0.1:27117).
 *
 *   npx tsx services/roster/bench/apply.bench.ts [--json] [--size large]
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { writeServiceKeys } from '@isams-sync/grpc';
import { createEventProducer, createKafkaClient, deleteTopics, ensureTopics } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { rosterTopicEnv } from '@isams-sync/testing';
import { createRosterApp } from '../src/app';
import { loadRosterConfig } from '../src/config';
import { ids } from '../src/use-cases/records';
import { generatedSchool, snapshotEvents } from '../test/support/school-feed';
import { normalise } from '../src/domain/normalise';

const args = process.argv.slice(2);
const json = args.includes('--json');
const size = (args.includes('--size') ? args[args.indexOf('--size') + 1]! : 'large') as
  'small' | 'medium' | 'large';
const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:19092').split(',');
const mongoUrl =
  process.env.MONGO_URL ?? 'mongodb://127.0.0.1:27117/?directConnection=true&retryWrites=false';
const log = (msg: string) => process.stderr.write(`[roster bench] ${msg}\n`);
const suffix = randomBytes(4).toString('hex');

log(`reading (or generating) a ${size} school…`);
const datasets = await generatedSchool(1, size);
const logger = createLogger({
  service: 'roster-bench',
  level: process.env.BENCH_LOG_LEVEL === 'debug' ? 'debug' : 'error',
});
const dbName = `roster_bench_${suffix}`;
const topics = {
  raw: `bench-raw-${suffix}`,
  changes: `bench-changes-${suffix}`,
  state: `bench-state-${suffix}`,
  runs: `bench-runs-${suffix}`,
  changesDirectory: `bench-changes-directory-${suffix}`,
  stateDirectory: `bench-state-directory-${suffix}`,
};
const admin = createKafkaClient({
  brokers,
  clientId: 'roster-bench-admin',
  logger: createLogger({ service: 'roster-bench-admin', level: 'silent' }),
});
await ensureTopics(
  admin,
  Object.values(topics).map((name) => ({
    name,
    partitions: 1,
    replicationFactor: 1,
    configEntries: {},
    keying: 'tenant' as const,
    description: 'benchmark',
  })),
);
const mongo = new MongoClient(mongoUrl);
await mongo.connect();
const db = mongo.db(dbName);

try {
  // Baseline: one bulk insert of the same normalised entities, one document per entity.
  const normalised = normalise({ datasets, asOf: new Date('2026-11-01T09:00:00Z') });
  const docs = Object.entries(normalised.entities).flatMap(([entityType, m]) =>
    [...m.values()].map((data) => ({
      _id: ids.entity('bench', entityType, data.id),
      tenantId: 'bench',
      entityType,
      entityId: data.id,
      status: 'active',
      data,
    })),
  );
  log(`baseline: insertMany of ${docs.length} normalised entities…`);
  const t = performance.now();
  await db.collection('baselineEntities').insertMany(docs as never[], { ordered: false });
  const baselineMs = performance.now() - t;

  const config = loadRosterConfig({
    KAFKA_BROKERS: brokers.join(','),
    MONGO_URL: mongoUrl,
    MONGO_DB: dbName,
    GRPC_PORT: '0',
    GRPC_IDENTITY_DIR: writeServiceKeys(mkdtempSync(join(tmpdir(), 'bench-identity-'))),
    OPS_PORT: '0',
    LOG_LEVEL: 'error',
    KAFKA_ENSURE_TOPICS: 'false',
    ...rosterTopicEnv(topics),
    RAW_DATASETS_GROUP_ID: `bench-${suffix}`,
  });
  const app = createRosterApp(config, { logger, disableSweeper: true });
  await app.start();
  const client = createKafkaClient({ brokers, clientId: 'roster-bench', logger });
  const producer = createEventProducer(client);
  const tenantId = `bench-${suffix}`;

  const run = async (runId: string) => {
    const started = performance.now();
    const { chunks, marker } = snapshotEvents(tenantId, runId, datasets, {
      chunkSize: 150,
      trigger: { kind: 'schedule' },
    });
    for (const e of [...chunks, marker]) await producer.publish(topics.raw, [e]);
    for (;;) {
      const cs = await app.store.getChangeset(tenantId, ids.changeset(tenantId, runId));
      if (cs?.state === 'done' || cs?.state === 'failed') {
        if (cs.state === 'failed') throw new Error(`run ${runId} failed: ${cs.error?.code}`);
        return {
          pipelineMs: cs.completedAt!.getTime() - cs.processedAt!.getTime(),
          endToEndMs: performance.now() - started,
          changes: cs.changeCount ?? 0,
        };
      }
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  log('first sync…');
  const first = await run('first');
  log(`first sync: ${first.changes} changes, pipeline ${(first.pipelineMs / 1000).toFixed(1)} s`);
  log('no-change resync…');
  const again = await run('again');
  log(`no-change resync: ${again.changes} changes, pipeline ${(again.pipelineMs / 1000).toFixed(1)} s`);
  await producer.disconnect();
  await app.stop();

  const rows = [
    {
      metric: `${size} first sync: normalise+diff+apply+publish (${first.changes} changes)`,
      value: Math.round(first.pipelineMs),
      unit: 'ms',
      baseline: Math.round(baselineMs),
      ratio: +(first.pipelineMs / baselineMs).toFixed(2),
      note: `baseline: one insertMany of the ${docs.length} normalised entities into the same database`,
    },
    {
      metric: `${size} first sync end to end (publish chunks → done)`,
      value: Math.round(first.endToEndMs),
      unit: 'ms',
      baseline: Math.round(baselineMs),
      ratio: +(first.endToEndMs / baselineMs).toFixed(2),
      note: 'includes staging the raw chunks from Kafka',
    },
    {
      metric: `${size} no-change resync: normalise+diff (0 changes)`,
      value: Math.round(again.pipelineMs),
      unit: 'ms',
      baseline: Math.round(baselineMs),
      ratio: +(again.pipelineMs / baselineMs).toFixed(2),
      note: 'same baseline',
    },
    {
      metric: `${size} no-change resync end to end`,
      value: Math.round(again.endToEndMs),
      unit: 'ms',
      baseline: Math.round(baselineMs),
      ratio: +(again.endToEndMs / baselineMs).toFixed(2),
    },
  ];
  if (json) process.stdout.write(`${JSON.stringify({ name: 'roster apply', rows })}\n`);
  else
    for (const r of rows)
      process.stdout.write(`${r.metric}: ${r.value} ${r.unit} (baseline ${r.baseline} ms, ×${r.ratio})\n`);
} finally {
  await db.dropDatabase().catch(() => undefined);
  await mongo.close();
  await deleteTopics(admin, Object.values(topics)).catch(() => undefined);
}
