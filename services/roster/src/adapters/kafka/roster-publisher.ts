import type { CloudEvent } from '@isams-sync/events';
import type { EventProducer } from '@isams-sync/kafka';

/** Topics the roster writes to (overridable for tests). */
export interface RosterTopics {
  rawDatasets: string;
  rosterChanges: string;
  rosterState: string;
  syncRuns: string;
}

/** Where the roster's events go; every method resolves only once the broker acknowledged (acks=all). */
export interface RosterPublisher {
  publishChanges(events: readonly CloudEvent[]): Promise<void>;
  /** State records, keyed `<tenantid>/<subject>` for compaction. */
  publishState(events: readonly CloudEvent[]): Promise<void>;
  publishRunUpdate(event: CloudEvent): Promise<void>;
}

export function createRosterPublisher(producer: EventProducer, topics: RosterTopics): RosterPublisher {
  return {
    async publishChanges(events) {
      if (events.length > 0) await producer.publish(topics.rosterChanges, events);
    },
    async publishState(events) {
      if (events.length > 0)
        await producer.publish(topics.rosterState, events, {
          keyOf: (e) => `${e.tenantid}/${e.subject ?? ''}`,
        });
    },
    async publishRunUpdate(event) {
      await producer.publish(topics.syncRuns, [event]);
    },
  };
}
