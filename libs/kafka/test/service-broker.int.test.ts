import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '@isams-sync/config';
import type { TopicSpec } from '@isams-sync/events';
import { getTestInfra, uniqueName } from '@isams-sync/testing';
import { z } from 'zod';
import { deleteTopics, describeTopic, ensureTopics, kafkaServiceConfig, serviceBroker } from '../src/index';
import type { EventProducer } from '../src/index';
import { pings, readRaw, testClient, testLogger, useCleanups } from './support/kafka-test-kit';

const cleanups = useCleanups();
const createdHere: string[] = [];
afterAll(async () => {
  if (createdHere.length > 0) await deleteTopics(testClient(), createdHere);
});

const configOf = (env: Record<string, string> = {}) =>
  loadConfig(z.object(kafkaServiceConfig), {
    KAFKA_BROKERS: getTestInfra().kafkaBrokers.join(','),
    KAFKA_TOPIC_REPLICATION_FACTOR: '1',
    ...env,
  });
const specOf = (name: string, partitions = 2): TopicSpec => ({
  name,
  partitions,
  configEntries: {},
  keying: 'tenant',
  description: 'test',
});

describe('serviceBroker', () => {
  it("creates the service's topics and hands over the producer it returns connected", async () => {
    const name = uniqueName('it-broker');
    const handed: EventProducer[] = [];
    const { kafka, producer } = await serviceBroker(configOf(), {
      service: 'broker-test',
      logger: testLogger,
      topics: [specOf(name)],
      onTopicMismatch: 'error',
      onProducer: (p) => void handed.push(cleanups.track(p)),
    });
    createdHere.push(name);
    expect(handed).toEqual([producer]);
    expect(kafka.clientId).toBe('broker-test');
    expect((await describeTopic(kafka, name)).partitions).toBe(2);
    await producer.publish(name, pings(1, ['t1']));
    expect(await readRaw(kafka, name, 1)).toHaveLength(1);
  });

  it('creates nothing when KAFKA_ENSURE_TOPICS is off', async () => {
    const name = uniqueName('it-broker-off');
    const { kafka } = await serviceBroker(configOf({ KAFKA_ENSURE_TOPICS: 'false' }), {
      service: 'broker-test',
      logger: testLogger,
      topics: [specOf(name)],
      onTopicMismatch: 'error',
      onProducer: (p) => void cleanups.track(p),
    });
    await expect(describeTopic(kafka, name)).rejects.toThrow();
  });

  it("refuses an existing topic's other partition count with 'error' (no producer made), only warns with 'warn'", async () => {
    const name = uniqueName('it-broker-mismatch');
    await ensureTopics(testClient(), [specOf(name, 2)]);
    createdHere.push(name);
    const handed: EventProducer[] = [];
    const options = {
      service: 'broker-test',
      logger: testLogger,
      topics: [specOf(name, 4)],
      onProducer: (p: EventProducer) => void handed.push(cleanups.track(p)),
    };
    await expect(serviceBroker(configOf(), { ...options, onTopicMismatch: 'error' })).rejects.toMatchObject({
      code: 'KAFKA_TOPIC_MISMATCH',
    });
    expect(handed).toEqual([]);
    const { producer } = await serviceBroker(configOf(), { ...options, onTopicMismatch: 'warn' });
    expect(handed).toEqual([producer]);
  });
});
