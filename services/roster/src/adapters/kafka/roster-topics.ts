import { TopicNames, topicsAs } from '@isams-sync/events';
import type { TopicSpec } from '@isams-sync/events';
import type { RosterTopics } from './roster-publisher';

/**
 * The topics the roster provisions (KAFKA_ENSURE_TOPICS), under its configured names: the six it
 * reads or writes, each with its dead-letter topic (the declared set gives every topic one).
 */
export function rosterTopicSpecs(topics: RosterTopics): TopicSpec[] {
  return topicsAs([
    { declared: TopicNames.rawDatasets, name: topics.rawDatasets, withDlq: true },
    { declared: TopicNames.rosterChanges, name: topics.rosterChanges, withDlq: true },
    { declared: TopicNames.rosterState, name: topics.rosterState, withDlq: true },
    { declared: TopicNames.rosterChangesDirectory, name: topics.rosterChangesDirectory, withDlq: true },
    { declared: TopicNames.rosterStateDirectory, name: topics.rosterStateDirectory, withDlq: true },
    { declared: TopicNames.syncRuns, name: topics.syncRuns, withDlq: true },
  ]);
}
