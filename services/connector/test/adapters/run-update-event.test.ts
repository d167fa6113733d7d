import { syncRunUpdatedV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import type { EventProducer } from '@isams-sync/kafka';
import { describe, expect, it } from 'vitest';
import { KafkaRunPublisher } from '../../src/adapters/kafka/run-publisher';
import { runRecord } from '../support/run-records';

// The connector's lifecycle event of a run as it is built (the producer only captures it; the
// Kafka path itself is covered by the integration tests).

/** A producer that keeps what it is asked to publish. */
function capturingProducer(): { producer: EventProducer; published: CloudEvent[] } {
  const published: CloudEvent[] = [];
  const producer: EventProducer = {
    connect: () => Promise.resolve(),
    publish: (_topic, events) => {
      published.push(...events);
      return Promise.resolve({ records: events.length } as never);
    },
    publishRaw: () => Promise.reject(new Error('not used')),
    disconnect: () => Promise.resolve(),
  };
  return { producer, published };
}

const at = new Date('2026-12-06T05:00:00Z');
const run = runRecord('school-e', 'run-1', at, { sequence: 4 });

describe('the connector’s sync.run.updated.v1 event', () => {
  it('a run that took the roster’s report at its `published` step carries the report’s status, counts and held batch', async () => {
    const { producer, published } = capturingProducer();
    const publisher = new KafkaRunPublisher(producer, { rawDatasets: 'raw', syncRuns: 'runs' });
    const counts = {
      pupil: { added: 0, updated: 2, removed: 0, restored: 0, held: 3, unchanged: 40, skipped: 0 },
    };
    await publisher.publishRunUpdate({
      ...run,
      status: 'held',
      rosterStatus: 'held',
      rosterSequence: 2,
      rosterCounts: counts,
      heldBatchId: 'batch-9',
      holdKind: 'removals',
    });
    const data = syncRunUpdatedV1.parse(published[0]!).data;
    expect(data).toMatchObject({
      status: 'held',
      reportedBy: 'connector',
      counts,
      heldBatchId: 'batch-9',
      holdKind: 'removals',
    });
  });

  it('a run the roster has not reported carries no counts', async () => {
    const { producer, published } = capturingProducer();
    await new KafkaRunPublisher(producer, { rawDatasets: 'raw', syncRuns: 'runs' }).publishRunUpdate(run);
    const data = syncRunUpdatedV1.parse(published[0]!).data;
    expect(data.status).toBe('published');
    expect(data.counts).toBeUndefined();
    expect(data.heldBatchId).toBeUndefined();
  });
});
