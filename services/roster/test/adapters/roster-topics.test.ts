import { TOPICS, dlqTopicName } from '@isams-sync/events';
import { describe, expect, it } from 'vitest';
import { rosterTopicSpecs } from '../../src/adapters/kafka/roster-topics';

const declared = (name: string) => TOPICS.find((t) => t.name === name)!;

describe('the topics the roster provisions (KAFKA_ENSURE_TOPICS)', () => {
  it('are its six topics and their dead-letter topics under the declared names', () => {
    const specs = rosterTopicSpecs({
      rawDatasets: 'isams.raw-datasets.v1',
      rosterChanges: 'roster.changes.v1',
      rosterState: 'roster.state.v1',
      rosterChangesDirectory: 'roster.changes.directory.v1',
      rosterStateDirectory: 'roster.state.directory.v1',
      syncRuns: 'sync.runs.v1',
    });
    expect(specs.map((s) => s.name).sort()).toEqual(
      [
        'isams.raw-datasets.v1',
        'roster.changes.v1',
        'roster.state.v1',
        'roster.changes.directory.v1',
        'roster.state.directory.v1',
        'sync.runs.v1',
      ]
        .flatMap((n) => [n, dlqTopicName(n)])
        .sort(),
    );
  });

  it('are created under the configured names when they are overridden, with the declared partitions and configs', () => {
    const specs = rosterTopicSpecs({
      rawDatasets: 'school-a.raw',
      rosterChanges: 'school-a.changes',
      rosterState: 'school-a.state',
      rosterChangesDirectory: 'school-a.changes.directory',
      rosterStateDirectory: 'school-a.state.directory',
      syncRuns: 'school-a.runs',
    });
    const byName = new Map(specs.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(
      [
        'school-a.raw',
        'school-a.changes',
        'school-a.state',
        'school-a.changes.directory',
        'school-a.state.directory',
        'school-a.runs',
      ]
        .flatMap((n) => [n, dlqTopicName(n)])
        .sort(),
    );
    // The compacted state topic keeps its compaction; a dead-letter topic keeps the DLQ retention.
    expect(byName.get('school-a.state')).toMatchObject({
      partitions: declared('roster.state.v1').partitions,
      configEntries: declared('roster.state.v1').configEntries,
    });
    expect(byName.get('school-a.raw.dlq')).toMatchObject({
      partitions: declared('isams.raw-datasets.v1.dlq').partitions,
      configEntries: declared('isams.raw-datasets.v1.dlq').configEntries,
    });
  });
});
