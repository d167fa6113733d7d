import { eventually, uniqueName } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import { createLogger } from '@isams-sync/logger';
import { createKafkaClient } from '../src/index';
import { freshTopic, pings, testLogger, usePrivateBroker } from './support/kafka-test-kit';

/** Longer than the old retry budget of a publish (kafkajs' 5 retries, 30 s publish timeout). */
const DOWN_MS = 45_000;
const BATCHES = 30;
const PER_BATCH = 10;
const TENANTS = ['school-a', 'school-b', 'school-c', 'school-d', 'school-e'];

/**
 * A broker restart (a rolling upgrade, a leader change) is ridden through: on a private broker,
 * stopped while a producer publishes and a consumer consumes and started again after longer than
 * the old retry budget, every publish resolves, every event is processed (at least once, each
 * school in order), and the consumer is still running afterwards. The client keeps the production
 * defaults (retries, timeouts): those are what failed in CI.
 */
describe('broker restarted while publishing and consuming', () => {
  const broker = usePrivateBroker((brokers) =>
    createKafkaClient({
      brokers,
      clientId: uniqueName('restart-test'),
      logger: process.env.TEST_LOG_LEVEL ? testLogger : createLogger({ service: 't', level: 'silent' }),
    }),
  );

  it('every publish resolves and every event is processed once the broker is back; the consumer keeps running', async () => {
    const { infra, client, producer } = broker;
    const { topic } = await freshTopic(client, 3);
    const runId = uniqueName('run');
    const events = pings(BATCHES * PER_BATCH, TENANTS, runId);
    const sequenceOf = new Map(events.map((e) => [e.id, (e.data as { sequence: number }).sequence]));
    const effects = new Map<string, number>();
    const orderPerTenant = new Map<string, number[]>();
    const consumer = broker.consumeFromStart(topic, {
      groupId: uniqueName('restart-group'),
      handler: async (event) => {
        // An idempotent handler: a redelivered event has no second side effect.
        const seen = effects.get(event.id) ?? 0;
        effects.set(event.id, seen + 1);
        if (seen === 0) {
          const list = orderPerTenant.get(event.tenantid) ?? [];
          list.push(sequenceOf.get(event.id) ?? -1);
          orderPerTenant.set(event.tenantid, list);
        }
      },
    });
    await consumer.ready;

    let acked = 0;
    const outcomes: string[] = [];
    const publishing = (async () => {
      for (let b = 0; b < BATCHES; b++) {
        const batch = events.slice(b * PER_BATCH, (b + 1) * PER_BATCH);
        try {
          await producer.publish(topic, batch);
          acked += 1;
          outcomes.push('ok');
        } catch (err) {
          outcomes.push(`${(err as { code?: string }).code ?? 'error'}: ${(err as Error).message}`);
        }
        await new Promise((r) => setTimeout(r, 200));
      }
    })();

    await eventually(() => acked >= BATCHES / 3, 'a third of the batches acknowledged', {
      timeoutMs: 60_000,
    });
    await infra.stopServer('kafka');
    await new Promise((r) => setTimeout(r, DOWN_MS));
    await infra.restart();
    await publishing;

    expect(outcomes.filter((o) => o !== 'ok')).toEqual([]);
    await eventually(() => events.every((e) => effects.has(e.id)), 'every event processed', {
      timeoutMs: 180_000,
    });
    expect([...effects.keys()].sort()).toEqual(events.map((e) => e.id).sort());
    for (const [tenant, sequences] of orderPerTenant)
      expect(sequences, `order of ${tenant}`).toEqual([...sequences].sort((a, b) => a - b));

    // Still a member of its group and consuming: a new event is processed without any restart by us.
    const [late] = pings(1, ['school-late'], `${runId}-late`);
    await producer.publish(topic, [late!]);
    await eventually(() => effects.has(late!.id), 'an event published after the restart processed', {
      timeoutMs: 120_000,
    });
  }, 600_000);
});
