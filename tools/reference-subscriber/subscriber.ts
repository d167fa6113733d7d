import {
  rosterChangeDataSchema,
  rosterChangeEventTypes,
  rosterDirectoryChangeV1,
  rosterDirectoryStateV1,
  rosterEntityStateV1,
  type CloudEvent,
  type RosterChangeData,
  type RosterEntityState,
} from '@isams-sync/events';
import {
  fromKafkaMessage,
  headerValue,
  readTopic,
  tailTopic,
  topicOffsets,
  type KafkaClient,
  type TopicRecord,
  type TopicTail,
} from '@isams-sync/kafka';
import type { Logger } from '@isams-sync/logger';
import { RosterCopy } from './roster-copy';

export interface ReferenceSubscriberOptions {
  client: KafkaClient;
  /**
   * `roster.changes.v1` and `roster.state.v1`, or with `projection: 'directory'` their least-data
   * projections `roster.changes.directory.v1` and `roster.state.directory.v1`.
   */
  changesTopic: string;
  stateTopic: string;
  /** Which contracts the topics carry (default `full`). */
  projection?: 'full' | 'directory';
  /** Keep only these schools (default: every school). */
  tenants?: readonly string[];
  logger: Logger;
  /** How often removed entities past their grace period are forgotten (default 1 s). */
  purgeEveryMs?: number;
  /** The clock of the grace-period purge (tests). */
  now?: () => Date;
}

/** Validation with the published contracts (`@isams-sync/events`), as any consumer would. */
interface Contracts {
  state(event: CloudEvent<unknown>): RosterEntityState;
  change(event: CloudEvent<unknown>): RosterChangeData;
}
const fullContracts: Contracts = {
  state: (event) => rosterEntityStateV1.parse(event).data,
  change: (event) => {
    // The generic data schema names the type; the type's own schema checks the event.
    const { entityType, change } = rosterChangeDataSchema.parse(event.data);
    return rosterChangeEventTypes[entityType][change].parse(event).data;
  },
};
const directoryContracts: Contracts = {
  state: (event) => rosterDirectoryStateV1.parse(event).data,
  change: (event) => rosterDirectoryChangeV1.parse(event).data,
};

export interface ReferenceSubscriber {
  readonly copy: RosterCopy;
  /** Resolves when every change written before the call has been handled. */
  caughtUp(timeoutMs?: number): Promise<void>;
  /** Counters: state records loaded, tombstones, change events applied / duplicate / stale / invalid. */
  readonly stats: Readonly<
    Record<'states' | 'tombstones' | 'applied' | 'duplicate' | 'stale' | 'invalid', number>
  >;
  stop(): Promise<void>;
}

/**
 * Bootstrap and follow (docs/events.md › Bootstrap and follow):
 * 1. take the end offsets of `roster.changes.v1` (per partition) — **before** step 2;
 * 2. read `roster.state.v1` from the beginning up to its end offsets at that moment (tombstones and
 *    `purged` records forget the key);
 * 3. follow `roster.changes.v1` from the offsets of step 1, skipping a change whose `revision` is not
 *    newer than the entity's (already in the snapshot, or a re-delivery).
 * The roster sends a change event only after its state record was acknowledged, so every change
 * missing from the snapshot is at or after the offsets of step 1: nothing is missed.
 */
export async function startReferenceSubscriber(
  options: ReferenceSubscriberOptions,
): Promise<ReferenceSubscriber> {
  const { client, logger } = options;
  const now = options.now ?? (() => new Date());
  const wanted = options.tenants === undefined ? undefined : new Set(options.tenants);
  const keep = (tenantId: string | undefined): tenantId is string =>
    tenantId !== undefined && (wanted === undefined || wanted.has(tenantId));
  const contracts = options.projection === 'directory' ? directoryContracts : fullContracts;
  const copy = new RosterCopy();
  const stats = { states: 0, tombstones: 0, applied: 0, duplicate: 0, stale: 0, invalid: 0 };

  // 1. Where following will start.
  const changeEnds = await topicOffsets(client, options.changesTopic);
  const followFrom = Object.fromEntries(changeEnds.map((o) => [o.partition, o.high]));

  // 2. The snapshot (readTopic stops at the end offsets it takes when called, i.e. after step 1).
  for (const record of await readTopic(client, options.stateTopic, { timeoutMs: 300_000 })) {
    const tenantId = headerValue(record.headers, 'ce_tenantid');
    if (!keep(tenantId)) continue;
    if (record.value === null) {
      copy.loadTombstone(record.key?.toString() ?? '');
      stats.tombstones += 1;
      continue;
    }
    copy.loadState(tenantId, contracts.state(fromKafkaMessage(record)));
    stats.states += 1;
  }
  logger.info({ ...stats, entities: copy.size }, 'bootstrapped from the state topic');

  // 3. Follow.
  const handled = new Map<number, bigint>();
  const onChanges = (records: TopicRecord[]): void => {
    for (const record of records) {
      handled.set(record.partition, BigInt(record.offset));
      const tenantId = headerValue(record.headers, 'ce_tenantid');
      if (!keep(tenantId)) continue;
      try {
        const event = fromKafkaMessage(record);
        stats[copy.applyChange(tenantId, event.id, contracts.change(event))] += 1;
      } catch (err) {
        // Not ours to fix: count it and go on (a production subscriber would dead-letter it).
        stats.invalid += 1;
        logger.error(
          { partition: record.partition, offset: record.offset, code: (err as { code?: string }).code },
          'invalid roster change event skipped',
        );
      }
    }
  };
  const tail: TopicTail = tailTopic(client, options.changesTopic, onChanges, {
    fromBeginning: true,
    fromOffsets: followFrom,
  });
  await tail.ready;
  const purge = setInterval(() => {
    const n = copy.purgeExpired(now());
    if (n > 0) logger.info({ forgotten: n }, 'forgot removed entities past their grace period');
  }, options.purgeEveryMs ?? 1000);

  return {
    copy,
    stats,
    async caughtUp(timeoutMs = 120_000) {
      const ends = await topicOffsets(client, options.changesTopic);
      const deadline = Date.now() + timeoutMs;
      const done = () =>
        ends.every(
          (o) =>
            BigInt(o.high) <= BigInt(followFrom[o.partition] ?? '0') ||
            (handled.get(o.partition) ?? -1n) >= BigInt(o.high) - 1n,
        );
      while (!done()) {
        if (Date.now() > deadline) throw new Error(`reference subscriber not caught up in ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 100));
      }
    },
    async stop() {
      clearInterval(purge);
      await tail.stop();
    },
  };
}
