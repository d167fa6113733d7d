import type { CloudEvent } from '@isams-sync/events';
import { isDirectoryEntityType } from '@isams-sync/events';
import type { EventProducer } from '@isams-sync/kafka';
import type { RosterPublisher } from '../../use-cases/ports';

const stateKey = (e: CloudEvent): string => `${e.tenantid}/${e.subject ?? ''}`;

/** Topics the roster writes to (overridable for tests). */
export interface RosterTopics {
  rawDatasets: string;
  rosterChanges: string;
  rosterState: string;
  /** The directory projection's topics (least data). */
  rosterChangesDirectory: string;
  rosterStateDirectory: string;
  syncRuns: string;
}

export function createRosterPublisher(producer: EventProducer, topics: RosterTopics): RosterPublisher {
  return {
    // The full topic and its directory projection are independent streams: both sends are in
    // flight at once, and the call resolves when both are acknowledged.
    async publishChanges(events, directory = []) {
      await Promise.all([
        events.length > 0 ? producer.publish(topics.rosterChanges, events) : undefined,
        directory.length > 0 ? producer.publish(topics.rosterChangesDirectory, directory) : undefined,
      ]);
    },
    async publishState(events, directory = []) {
      await Promise.all([
        events.length > 0 ? producer.publish(topics.rosterState, events, { keyOf: stateKey }) : undefined,
        directory.length > 0
          ? producer.publish(topics.rosterStateDirectory, directory, { keyOf: stateKey })
          : undefined,
      ]);
    },
    async publishStateTombstones(tombstones) {
      const records = (list: typeof tombstones) =>
        list.map((t) => ({
          key: `${t.tenantId}/${t.entityType}/${t.entityId}`,
          value: null,
          headers: { ce_tenantid: t.tenantId },
        }));
      if (tombstones.length === 0) return;
      await producer.publishRaw(topics.rosterState, records(tombstones));
      const directory = tombstones.filter((t) => isDirectoryEntityType(t.entityType));
      if (directory.length > 0) await producer.publishRaw(topics.rosterStateDirectory, records(directory));
    },
    async publishRunUpdate(event) {
      await producer.publish(topics.syncRuns, [event]);
    },
  };
}
