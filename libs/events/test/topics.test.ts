import { describe, expect, it } from 'vitest';
import { dlqTopicName, TOPICS, TopicNames, topicSpec, topicsAs } from '../src/index';

describe('TOPICS', () => {
  it('declares the main topics with 12 partitions', () => {
    for (const name of Object.values(TopicNames)) {
      expect(topicSpec(name)?.partitions).toBe(12);
    }
  });

  it('sets retention and cleanup policy as declared', () => {
    const day = 86_400_000;
    expect(topicSpec('isams.raw-datasets.v1')?.configEntries).toEqual({
      'cleanup.policy': 'delete',
      'retention.ms': String(7 * day),
    });
    for (const name of ['sync.runs.v1', 'roster.changes.v1', 'bookings.events.v1']) {
      expect(topicSpec(name)?.configEntries['retention.ms']).toBe(String(30 * day));
    }
    expect(topicSpec('roster.state.v1')?.configEntries['cleanup.policy']).toBe('compact');
    expect(topicSpec('roster.state.v1')?.keying).toBe('tenant-subject');
  });

  it('has a long-retention DLQ for every main topic', () => {
    for (const name of Object.values(TopicNames)) {
      const dlq = topicSpec(dlqTopicName(name));
      expect(topicSpec(name)?.dlq).toBe(`${name}.dlq`);
      expect(dlq?.configEntries['cleanup.policy']).toBe('delete');
      expect(Number(dlq?.configEntries['retention.ms'])).toBeGreaterThanOrEqual(
        Number(topicSpec(name)?.configEntries['retention.ms'] ?? 0),
      );
    }
  });

  it('has unique names and a description for each', () => {
    expect(new Set(TOPICS.map((t) => t.name)).size).toBe(TOPICS.length);
    for (const t of TOPICS) expect(t.description.length).toBeGreaterThan(10);
  });
});

describe('topicsAs: declared topics under configured names', () => {
  it('keeps the declared partitions, configs and keying, renames the dead-letter topic with its main topic', () => {
    const specs = topicsAs([
      { declared: 'roster.changes.v1', name: 'test-1.changes', withDlq: true },
      { declared: 'bookings.events.v1', name: 'test-1.bookings' },
    ]);
    const declared = (name: string) => TOPICS.find((t) => t.name === name)!;
    expect(specs).toEqual([
      { ...declared('roster.changes.v1'), name: 'test-1.changes', dlq: 'test-1.changes.dlq' },
      { ...declared('roster.changes.v1.dlq'), name: 'test-1.changes.dlq' },
      { ...declared('bookings.events.v1'), name: 'test-1.bookings', dlq: 'test-1.bookings.dlq' },
    ]);
  });

  it('refuses a topic that is not declared', () => {
    expect(() => topicsAs([{ declared: 'roster.changes.v2', name: 'x' }])).toThrow(/not declared/);
  });
});
