import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createEventProducer, createKafkaClient } from '@isams-sync/kafka';
import {
  createTestDatabase,
  createTestTopics,
  eventually,
  failedStartAttempts,
  freePort,
  getTestInfra,
  grpcHealthStatus,
  httpStatus,
  startTcpGate,
  testServiceIdentityDir,
  uniqueName,
} from '@isams-sync/testing';
import type { TcpGate, TestDatabase } from '@isams-sync/testing';
import { MongoBookingsStore } from '../../src/adapters/mongo/bookings.store';
import { logger, rosterEvent } from '../support/harness';

const repoRoot = resolve(import.meta.dirname, '../../../..');

/** `MONGO_URL` with its host:port replaced by `address` (the gate in front of the database). */
function throughGate(mongoUrl: string, address: string): string {
  return mongoUrl.replace(/^(mongodb:\/\/(?:[^@/]*@)?)[^/]+/, `$1${address}`);
}

/**
 * docs/deploy.md › A service not ready: a pod that starts while Kafka and MongoDB are unreachable
 * (a rolling deploy during an outage) does not exit into CrashLoopBackOff — it stays up, live and
 * not ready, and becomes ready and consumes by itself once both answer.
 */
describe('bookings started while Kafka and MongoDB are unreachable', () => {
  const gates: TcpGate[] = [];
  let child: ChildProcess | undefined;
  let db: TestDatabase | undefined;
  afterAll(async () => {
    child?.kill('SIGKILL');
    for (const g of gates) await g.close();
    await db?.drop();
  });

  it('stays up, live and not ready, then becomes ready and consumes once both come back; SIGTERM exits 0', async () => {
    const infra = getTestInfra();
    db = await createTestDatabase('bookings');
    const [rosterTopic, bookingsTopic] = await createTestTopics(
      [{ prefix: 'roster-changes' }, { prefix: 'bookings-events' }],
      infra.kafkaBrokers,
    );
    const kafkaGate = await startTcpGate(infra.kafkaBrokers[0]!);
    const mongoGate = await startTcpGate(new URL(infra.mongoUrl).host);
    gates.push(kafkaGate, mongoGate);
    const [grpcPort, opsPort] = [await freePort(), await freePort()];
    const groupId = uniqueName('bookings-outage');
    const lines: string[] = [];
    child = spawn(process.execPath, ['--import', 'tsx', 'services/bookings/src/main.ts'], {
      cwd: repoRoot,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: {
        ...process.env,
        NODE_ENV: 'test',
        LOG_LEVEL: 'info',
        KAFKA_BROKERS: kafkaGate.address,
        KAFKA_TOPIC_REPLICATION_FACTOR: '1',
        MONGO_URL: throughGate(infra.mongoUrl, mongoGate.address),
        MONGO_DB: db.name,
        GRPC_PORT: String(grpcPort),
        OPS_PORT: String(opsPort),
        GRPC_IDENTITY_DIR: testServiceIdentityDir(),
        ROSTER_GRPC_ADDRESS: '127.0.0.1:1',
        ROSTER_CHANGES_TOPIC: rosterTopic!,
        BOOKINGS_EVENTS_TOPIC: bookingsTopic!,
        ROSTER_CHANGES_GROUP_ID: groupId,
        READINESS_INTERVAL_MS: '500',
      },
    });
    const exits: Array<number | string> = [];
    child.once('exit', (code, signal) => exits.push(code ?? signal ?? 'unknown'));
    for (const stream of [child.stdout!, child.stderr!])
      stream.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n').filter(Boolean)));
    const log = () => lines.join('\n');
    const alive = () => exits.length === 0;
    const ops = (path: string) => httpStatus(`http://127.0.0.1:${opsPort}${path}`);
    const grpc = `127.0.0.1:${grpcPort}`;

    // Both dependencies refuse: the process must not exit, and must say it is live but not ready.
    const detail = () => `exits ${JSON.stringify(exits)}; log:\n${log()}`;
    await eventually(
      async () => {
        if (!alive()) throw new Error(`bookings exited at start-up: ${detail()}`);
        return (await ops('/health')) === 200;
      },
      'ops /health 200',
      { timeoutMs: 60_000, detail },
    );
    await eventually(() => failedStartAttempts(lines).length >= 2, 'two failed start-up attempts logged', {
      timeoutMs: 120_000,
      detail,
    });
    expect(alive(), log()).toBe(true);
    expect(await ops('/health')).toBe(200);
    expect(await ops('/ready')).toBe(503);
    expect(await grpcHealthStatus(grpc, 'liveness')).toBe('SERVING');
    expect(await grpcHealthStatus(grpc, '')).toBe('NOT_SERVING');
    expect(log()).not.toMatch(/mongodb:\/\/[^\s"]*:[^\s"@]*@/);

    // Both come back: ready by itself, and the consumer works.
    mongoGate.open();
    kafkaGate.open();
    await eventually(async () => (await ops('/ready')) === 200, 'ready', { timeoutMs: 180_000, detail });
    expect(await grpcHealthStatus(grpc, '')).toBe('SERVING');
    expect(alive()).toBe(true);
    const kafka = createKafkaClient({ brokers: infra.kafkaBrokers, clientId: 'outage-test', logger });
    const producer = createEventProducer(kafka, { logger });
    await producer.connect();
    const event = rosterEvent('school-outage', 'pupil', 'removed', 'p1');
    await producer.publish(rosterTopic!, [event]);
    await producer.disconnect();
    const store = await MongoBookingsStore.create(db.db);
    await eventually(() => store.isProcessed('school-outage', event.id), 'the roster change consumed', {
      timeoutMs: 120_000,
    });

    child.kill('SIGTERM');
    await eventually(() => (alive() ? undefined : true), 'the process exits after SIGTERM', {
      timeoutMs: 30_000,
    });
    expect(exits).toEqual([0]);
  }, 600_000);
});
