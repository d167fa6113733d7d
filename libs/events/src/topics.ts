const DAY_MS = 24 * 60 * 60 * 1000;

/** How the Kafka record key is derived. Partitioning is always by tenant id (see README). */
export type TopicKeying =
  /** key = tenantid: every event of a school on one partition, in order. */
  | 'tenant'
  /** key = `<tenantid>/<subject>` (compacted state topics: one retained record per entity), partition still by tenantid. */
  | 'tenant-subject';

/** A declared Kafka topic: the single source for topic creation, the Helm hook and the docs. */
export interface TopicSpec {
  /** Topic name, versioned (`.v1`). */
  readonly name: string;
  /** Number of partitions (the unit of consumer parallelism; never decreased). */
  readonly partitions: number;
  /** Replication factor; omitted = broker default (override at creation time, e.g. from the environment). */
  readonly replicationFactor?: number;
  /** Topic-level configs (`cleanup.policy`, `retention.ms`, …) as Kafka expects them: strings. */
  readonly configEntries: Readonly<Record<string, string>>;
  /** How the record key is derived. */
  readonly keying: TopicKeying;
  /** The dead-letter topic of this topic, when it is consumed by isams-sync. */
  readonly dlq?: string;
  /** What flows through it and who reads it. */
  readonly description: string;
}

/** The dead-letter topic name convention: `<topic>.dlq`. */
export function dlqTopicName(topic: string): string {
  return `${topic}.dlq`;
}

const deleteAfter = (days: number): Record<string, string> => ({
  'cleanup.policy': 'delete',
  'retention.ms': String(days * DAY_MS),
});

/** Retention of dead-letter topics: long enough to investigate and replay after a holiday. */
export const DLQ_RETENTION_DAYS = 90;
/** Partitions of dead-letter topics (low volume; ordering there is not relied on). */
export const DLQ_PARTITIONS = 3;

const main: TopicSpec[] = [
  {
    name: 'isams.raw-datasets.v1',
    partitions: 12,
    configEntries: deleteAfter(7),
    keying: 'tenant',
    description:
      'Raw iSAMS Batch API dataset chunks and run-complete markers published by the connector; consumed by roster. Lossless, so the roster can be rebuilt by replay within retention.',
  },
  {
    name: 'sync.runs.v1',
    partitions: 12,
    configEntries: deleteAfter(30),
    keying: 'tenant',
    description:
      'Sync-run lifecycle events (requested, fetching, fetched, applying, held, applied, failed, with counts).',
  },
  {
    name: 'roster.changes.v1',
    partitions: 12,
    configEntries: deleteAfter(30),
    keying: 'tenant',
    description:
      'Roster change events (added/updated/removed/restored …) published by roster; consumed by bookings and other SchoolCloud products.',
  },
  {
    name: 'roster.state.v1',
    partitions: 12,
    configEntries: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(60 * 60 * 1000) },
    keying: 'tenant-subject',
    description:
      'Compacted per-entity current roster state (one retained record per tenant + entity), so a new subscriber can bootstrap before following roster.changes.v1.',
  },
  {
    name: 'roster.changes.directory.v1',
    partitions: 12,
    configEntries: deleteAfter(30),
    keying: 'tenant',
    description:
      'Roster change events reduced to the directory projection (names, ids, school structure; no contact details), published by roster beside roster.changes.v1 for products that need no more (least data).',
  },
  {
    name: 'roster.state.directory.v1',
    partitions: 12,
    configEntries: { 'cleanup.policy': 'compact', 'min.compaction.lag.ms': String(60 * 60 * 1000) },
    keying: 'tenant-subject',
    description:
      'Compacted per-entity roster state reduced to the directory projection, to bootstrap before following roster.changes.directory.v1.',
  },
  {
    name: 'bookings.events.v1',
    partitions: 12,
    configEntries: deleteAfter(30),
    keying: 'tenant',
    description:
      'Booking outcomes published by bookings (e.g. bookings cancelled because a person was removed).',
  },
];

// Every main topic gets a DLQ: those consumed by isams-sync services today, and the ones other
// products consume, so any consumer built on @isams-sync/kafka has its default DLQ ready.
const withDlq: TopicSpec[] = main.map((t) => ({ ...t, dlq: dlqTopicName(t.name) }));

const dlqs: TopicSpec[] = withDlq.map((t) => ({
  name: dlqTopicName(t.name),
  partitions: DLQ_PARTITIONS,
  configEntries: deleteAfter(DLQ_RETENTION_DAYS),
  keying: t.keying,
  description: `Dead letters of ${t.name}: the original message plus x-dlq-* headers (reason, error code, original topic/partition/offset, attempts).`,
}));

/** Every topic isams-sync uses, in creation order (main topics, then their dead-letter topics). */
export const TOPICS: readonly TopicSpec[] = Object.freeze([...withDlq, ...dlqs].map((t) => Object.freeze(t)));

/** One declared topic as a service uses it: the declared name, the configured name, and whether its dead-letter topic comes too. */
export interface TopicUse {
  readonly declared: string;
  readonly name: string;
  readonly withDlq?: boolean;
}

/**
 * The declared topics under the names a service is configured with (a test prefix, two environments
 * on one cluster): each keeps its declared partitions, configs and keying; with `withDlq` its
 * dead-letter topic comes too, named after the configured name (`<name>.dlq`). What every service
 * hands to `ensureTopics`. An undeclared name is a programming error and throws.
 */
export function topicsAs(uses: readonly TopicUse[]): TopicSpec[] {
  const declared = (name: string): TopicSpec => {
    const spec = topicSpec(name);
    if (spec === undefined) throw new Error(`topic ${name} is not declared in libs/events/src/topics.ts`);
    return spec;
  };
  return uses.flatMap(({ declared: d, name, withDlq }) => {
    const main = declared(d);
    const renamed: TopicSpec = {
      ...main,
      name,
      ...(main.dlq === undefined ? {} : { dlq: dlqTopicName(name) }),
    };
    return withDlq === true
      ? [renamed, { ...declared(dlqTopicName(d)), name: dlqTopicName(name) }]
      : [renamed];
  });
}

/** Names of the main topics, for typed references in services. */
export const TopicNames = {
  rawDatasets: 'isams.raw-datasets.v1',
  syncRuns: 'sync.runs.v1',
  rosterChanges: 'roster.changes.v1',
  rosterState: 'roster.state.v1',
  rosterChangesDirectory: 'roster.changes.directory.v1',
  rosterStateDirectory: 'roster.state.directory.v1',
  bookingsEvents: 'bookings.events.v1',
} as const;

/** The declared spec of `name`, or undefined. */
export function topicSpec(name: string): TopicSpec | undefined {
  return TOPICS.find((t) => t.name === name);
}
