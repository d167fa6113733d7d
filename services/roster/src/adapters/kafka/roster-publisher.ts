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
  /**
   * Tombstones (null value, key `<tenantid>/<entityType>/<entityId>`) on the state topic, so compaction
   * forgets the entity's key. The `ce_tenantid` header puts each on its school's partition — the one
   * holding the key's earlier records (compaction works per partition).
   */
  publishStateTombstones(
    tombstones: readonly { tenantId: string; entityType: string; entityId: string }[],
  ): Promise<void>;
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
    async publishStateTombstones(tombstones) {
      if (tombstones.length > 0)
        await producer.publishRaw(
          topics.rosterState,
          tombstones.map((t) => ({
            key: `${t.tenantId}/${t.entityType}/${t.entityId}`,
            value: null,
            headers: { ce_tenantid: t.tenantId },
          })),
        );
    },
    async publishRunUpdate(event) {
      await producer.publish(topics.syncRuns, [event]);
    },
  };
}
