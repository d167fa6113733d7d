import { afterAll, describe, expect, it } from 'vitest';
import { uniqueName } from '@isams-sync/testing';
import { TOPICS } from '@isams-sync/events';
import type { TopicSpec } from '@isams-sync/events';
import { deleteTopics, describeTopic, ensureTopics } from '../src/index';
import { testClient, testLogger } from './support/kafka-test-kit';

// The declared topics under fresh names, so the test never touches (or depends on) real ones.
const renamed = (prefix: string): TopicSpec[] => TOPICS.map((t) => ({ ...t, name: `${prefix}.${t.name}` }));

const createdHere: string[] = [];
afterAll(async () => {
  // 75 partitions per run: don't leave them on the shared dev broker.
  if (createdHere.length > 0) await deleteTopics(testClient(), createdHere);
});

describe('ensureTopics', () => {
  it('creates exactly the declared topics with their partitions and configs, and is idempotent', async () => {
    const client = testClient();
    const prefix = uniqueName('it');
    const specs = renamed(prefix);

    const first = await ensureTopics(client, specs, { replicationFactor: 1 });
    createdHere.push(...first.created);
    expect(first.created.sort()).toEqual(specs.map((s) => s.name).sort());
    expect(first.existing).toEqual([]);

    for (const spec of specs) {
      const actual = await describeTopic(client, spec.name);
      expect(actual.partitions, spec.name).toBe(spec.partitions);
      for (const [name, value] of Object.entries(spec.configEntries))
        expect(actual.configs[name], `${spec.name} ${name}`).toBe(value);
    }
    const state = await describeTopic(client, `${prefix}.roster.state.v1`);
    expect(state.configs['cleanup.policy']).toBe('compact');
    const raw = await describeTopic(client, `${prefix}.isams.raw-datasets.v1`);
    expect(raw.configs['retention.ms']).toBe(String(7 * 86_400_000));

    const second = await ensureTopics(client, specs);
    expect(second.created).toEqual([]);
    expect(second.existing.sort()).toEqual(specs.map((s) => s.name).sort());
    expect(second.mismatches).toEqual([]);
  });

  it('reports a partition mismatch of an existing topic as an error, or a warning when asked', async () => {
    const client = testClient();
    const name = uniqueName('it-mismatch');
    const spec: TopicSpec = { name, partitions: 2, configEntries: {}, keying: 'tenant', description: 'test' };
    await ensureTopics(client, [spec]);
    createdHere.push(name);
    const grown = { ...spec, partitions: 4 };
    await expect(ensureTopics(client, [grown])).rejects.toMatchObject({
      code: 'KAFKA_TOPIC_MISMATCH',
      message: expect.stringContaining(`${name} has 2 partitions, spec says 4`),
    });
    const warned = await ensureTopics(client, [grown], { onMismatch: 'warn', logger: testLogger });
    expect(warned.mismatches).toHaveLength(1);
  });
});

describe('deleteTopics', () => {
  it('deletes what exists, also when another client deletes some of the same topics at the same time', async () => {
    const prefix = uniqueName('it-del');
    const specs = renamed(prefix);
    await ensureTopics(testClient(), specs, { replicationFactor: 1 });
    const names = specs.map((s) => s.name);
    // Two clients list the same topics and delete them at once: the one that comes second finds some
    // gone (UNKNOWN_TOPIC_OR_PARTITION for its whole request) and must still delete the rest.
    const [a, b] = await Promise.all([
      deleteTopics(testClient(), (n) => n.startsWith(`${prefix}.`)),
      deleteTopics(testClient(), [...names].reverse()),
    ]);
    expect(a.length + b.length).toBeGreaterThanOrEqual(names.length);
    expect(await deleteTopics(testClient(), (n) => n.startsWith(`${prefix}.`))).toEqual([]);
    // A name that does not exist is skipped, not an error.
    expect(await deleteTopics(testClient(), [`${prefix}.never-created`])).toEqual([]);
  });
});
