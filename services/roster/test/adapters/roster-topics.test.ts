import { TOPICS, dlqTopicName } from '@isams-sync/events';
import { describe, expect, it } from 'vitest';
import type { RosterTopics } from '../../src/adapters/kafka/roster-publisher';
import { rosterTopicSpecs } from '../../src/adapters/kafka/roster-topics';

const declared = (name: string) => TOPICS.find((t) => t.name === name)!;

/** Every topic name given, with its dead-letter topic, sorted. */
const withDeadLetters = (names: Record<string, string>) =>
  Object.values(names)
    .flatMap((n) => [n, dlqTopicName(n)])
    .sort();

/** The roster's six topics under their declared names. */
const DECLARED_NAMES = {
  rawDatasets: 'isams.raw-datasets.v1',
  rosterChanges: 'roster.changes.v1',
  rosterState: 'roster.state.v1',
  rosterChangesDirectory: 'roster.changes.directory.v1',
  rosterStateDirectory: 'roster.state.directory.v1',
  syncRuns: 'sync.runs.v1',
} satisfies RosterTopics;

describe('the topics the roster provisions (KAFKA_ENSURE_TOPICS)', () => {
  it('are its six topics and their dead-letter topics under the declared names', () => {
    const specs = rosterTopicSpecs(DECLARED_NAMES);
    expect(specs.map((s) => s.name).sort()).toEqual(withDeadLetters(DECLARED_NAMES));
  });

  it('are created under the configured names when they are overridden, with the declared partitions and configs', () => {
    // Every name overridden: the declared one under a prefix of the school's own.
    const names = Object.fromEntries(
      Object.entries(DECLARED_NAMES).map(([topic, name]) => [topic, `school-a.${name}`]),
    ) as Record<keyof RosterTopics, string>;
    const byName = new Map(rosterTopicSpecs(names).map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(withDeadLetters(names));
    // The compacted state topic keeps its compaction; a dead-letter topic keeps the DLQ retention.
    expect(byName.get('school-a.roster.state.v1')).toMatchObject({
      partitions: declared('roster.state.v1').partitions,
      configEntries: declared('roster.state.v1').configEntries,
    });
    expect(byName.get('school-a.isams.raw-datasets.v1.dlq')).toMatchObject({
      partitions: declared('isams.raw-datasets.v1.dlq').partitions,
      configEntries: declared('isams.raw-datasets.v1.dlq').configEntries,
    });
  });
});
