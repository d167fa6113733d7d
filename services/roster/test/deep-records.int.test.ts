import { describe, expect, it } from 'vitest';
import { dlqTopicName, rawDatasetChunkV1 } from '@isams-sync/events';
import { DLQ_HEADERS, ensureTopics, headerValue, readTopic } from '@isams-sync/kafka';
import { COLLECTIONS } from '../src/adapters/mongo/roster-store';
import { runFinished } from './support/harness';
import { miniSchool } from './support/mini-school';
import { snapshotEvents } from './support/school-feed';
import { useStartedRoster } from './support/started-roster';

/**
 * The audit's wedge (deep-chunk-wedge): one raw chunk whose record nests far deeper than any iSAMS
 * document can (the connector's parser refuses documents deeper than 64 levels) used to throw a
 * RangeError in the roster's consumer — retried forever, so every later event of its partition,
 * other schools' runs included, waited behind it. Such a chunk is invalid data now: dead-lettered,
 * and the partition moves on.
 */

const roster = useStartedRoster();

// Both schools' events go to partition 0 of the harness' two-partition raw topic (tenant murmur2).
const HOSTILE = 'school-hostile';
const VICTIM = 'school-victim';

/** A chunk's JSON text with one record nesting `depth` elements below it (`bottom`: extra JSON on the innermost). */
function deepChunkValue(syncRunId: string, depth: number, bottom = ''): string {
  let element = `{"name":"Leaf","attributes":{},"children":[]${bottom}}`;
  for (let i = 0; i < depth; i++) element = `{"name":"Node","attributes":{},"children":[${element}]}`;
  return `{"syncRunId":"${syncRunId}","datasetId":"currentPupils","chunkIndex":0,"chunkCount":1,"firstRecordOrdinal":0,"datasetFingerprint":"${'a'.repeat(64)}","records":[{"name":"Pupil","attributes":{"Id":"1"},"children":[${element}]}]}`;
}

/** A binary-mode CloudEvent record written as it is (the producer's schema check never sees it). */
const hostileRecord = (id: string, value: string) => ({
  key: HOSTILE,
  value,
  headers: {
    ce_specversion: '1.0',
    ce_id: id,
    ce_source: '/isams-sync/connector',
    ce_type: rawDatasetChunkV1.type,
    ce_time: new Date().toISOString(),
    ce_tenantid: HOSTILE,
    'content-type': 'application/json',
  },
});

/** The partitions a publish wrote to. */
const partitionsOf = (r: { partitions: Array<{ partition: number }> }) => [
  ...new Set(r.partitions.map((p) => p.partition)),
];

describe('a raw chunk nested too deep', () => {
  it('is dead-lettered as invalid data, and another school’s run behind it on the same partition is applied', async () => {
    const { h, app } = roster;
    const dlq = dlqTopicName(h.topics.raw);
    await ensureTopics(h.client, [
      {
        name: dlq,
        partitions: 1,
        replicationFactor: 1,
        configEntries: {},
        keying: 'tenant',
        description: 'test dlq',
      },
    ]);
    const hostile = await h.producer.publishRaw(h.topics.raw, [
      // 1,000 levels and an unknown key at the bottom: zod's walk overflowed the stack.
      hostileRecord('deep-invalid', deepChunkValue('run-evil', 1000, ',"bogus":1')),
      // 20,000 levels, well-formed (840 KB): passed validation, then overflowed in JSON.stringify.
      hostileRecord('deep-valid', deepChunkValue('run-evil', 20_000)),
    ]);
    const { chunks, marker } = snapshotEvents(VICTIM, 'run-good', miniSchool(12));
    const victim = await h.producer.publish(h.topics.raw, [...chunks, marker]);
    const [partition, ...others] = partitionsOf(hostile);
    expect({ others, victim: partitionsOf(victim) }).toEqual({ others: [], victim: [partition] });

    const done = await runFinished(app, VICTIM, 'run-good', 'sync', 60_000);
    expect({ state: done.state, outcome: done.outcome }).toEqual({ state: 'done', outcome: 'applied' });

    const dead = await readTopic(h.client, dlq, { until: (r) => r.length >= 2, timeoutMs: 30_000 });
    expect(
      dead.map((r) => ({
        id: headerValue(r.headers, 'ce_id'),
        code: headerValue(r.headers, DLQ_HEADERS.errorCode),
        partition: headerValue(r.headers, DLQ_HEADERS.originalPartition),
      })),
    ).toEqual(
      ['deep-invalid', 'deep-valid'].map((id) => ({
        id,
        code: 'EVENT_DATA_INVALID',
        partition: String(partition),
      })),
    );
    expect(headerValue(dead[0]!.headers, DLQ_HEADERS.reason)).toContain('may nest at most');
    // Nothing of the hostile chunks was staged.
    const staged = await h.db.db.collection(COLLECTIONS.rawChunks).countDocuments({ tenantId: HOSTILE });
    expect(staged).toBe(0);
  }, 150_000);
});
