import { CLOUDEVENT_ATTRIBUTES, CLOUDEVENTS_SPEC_VERSION, JSON_CONTENT_TYPE } from './cloud-event';
import type { EventType } from './define-event-type';
import type { EventRegistry } from './event-registry';
import { CONTRACTS_VERSION } from './schema-uri';
import type { TopicSpec } from './topics';
import { allBookingEventTypes } from './types/bookings.events';
import { datasetSnapshotCompletedV1, rawDatasetChunkV1 } from './types/raw-dataset.events';
import { allRosterChangeEventTypes, rosterEntityStateV1 } from './types/roster-change.events';
import { rosterDirectoryChangeV1, rosterDirectoryStateV1 } from './types/roster-directory.events';
import { syncRunUpdatedV1 } from './types/sync-run.events';

/** What isams-sync publishes on one topic, and whether other teams may build on it. */
export interface PublishedTopic {
  /** The event types published on the topic. */
  readonly types: readonly EventType[];
  /**
   * `public`: a contract for other SchoolCloud products (versioned, compatibility-checked, in the
   * contracts package). `internal`: between isams-sync's own services — documented, but it may
   * change with a release of isams-sync; do not subscribe from another product.
   */
  readonly audience: 'public' | 'internal';
}

/**
 * Which event types go on which topic: the source of the AsyncAPI document. Every main topic of
 * `TOPICS` must be here (a test checks it); dead-letter topics are operational, not contracts.
 */
export const PUBLISHED_TOPICS: Readonly<Record<string, PublishedTopic>> = {
  'isams.raw-datasets.v1': { types: [rawDatasetChunkV1, datasetSnapshotCompletedV1], audience: 'internal' },
  'sync.runs.v1': { types: [syncRunUpdatedV1], audience: 'internal' },
  'roster.changes.v1': { types: allRosterChangeEventTypes, audience: 'public' },
  'roster.state.v1': { types: [rosterEntityStateV1], audience: 'public' },
  'roster.changes.directory.v1': { types: [rosterDirectoryChangeV1], audience: 'public' },
  'roster.state.directory.v1': { types: [rosterDirectoryStateV1], audience: 'public' },
  'bookings.events.v1': { types: allBookingEventTypes, audience: 'public' },
};

const camel = (s: string): string => s.replace(/[.-]([a-z0-9])/g, (_, c: string) => c.toUpperCase());

/** The `ce_*` headers of a binary-mode CloudEvent on Kafka, as a JSON Schema. */
function headersSchema(): Record<string, unknown> {
  const described: Record<string, Record<string, unknown>> = {
    ce_specversion: { const: CLOUDEVENTS_SPEC_VERSION },
    ce_id: { description: 'Deterministic event id: de-duplicate by it.' },
    ce_source: {},
    ce_type: { description: "The event type: the message's name." },
    ce_subject: {},
    ce_time: { format: 'date-time' },
    ce_dataschema: {
      description: "The message's x-dataschema: absolute, versioned URI of the payload schema.",
    },
    ce_tenantid: { description: "The school's tenant id (also the partitioning key)." },
    ce_syncrunid: {},
    ce_traceparent: {
      description:
        'W3C traceparent of the span that published the event (CloudEvents distributed tracing), only when tracing is on; a malformed one is ignored.',
    },
    ce_tracestate: { description: 'W3C tracestate that goes with ce_traceparent, when there is one.' },
    'content-type': { const: JSON_CONTENT_TYPE },
  };
  const properties = Object.fromEntries(
    Object.entries(described).map(([name, extra]) => [name, { type: 'string', ...extra }]),
  );
  return {
    type: 'object',
    description: 'CloudEvents 1.0 attributes of a binary-mode Kafka message (values are UTF-8 strings).',
    properties,
    required: ['ce_specversion', 'ce_id', 'ce_source', 'ce_type', 'ce_time', 'ce_tenantid', 'content-type'],
  };
}

/** The headers of a tombstone: only the tenant id (it places the record on the school's partition). */
function tombstoneHeadersSchema(): Record<string, unknown> {
  return {
    type: 'object',
    description: 'A tombstone carries only ce_tenantid: it is not a CloudEvent (no ce_id, ce_type, …).',
    properties: {
      ce_tenantid: { type: 'string', description: "The school's tenant id (also the partitioning key)." },
    },
    required: ['ce_tenantid'],
    not: { required: ['ce_id'] },
  };
}

/** The tombstone message of a compacted state topic (`<channel>Tombstone`). */
function tombstoneMessage(topic: TopicSpec): Record<string, unknown> {
  return {
    name: 'tombstone',
    title: `${topic.name} tombstone`,
    summary:
      'A record with a null value and only the ce_tenantid header, sent after a purged record with the same key: not a CloudEvent — skip it, or forget the key. Compaction then drops every record of the key (docs/events.md › roster.state.v1).',
    headers: { $ref: '#/components/schemas/tombstoneHeaders' },
    payload: { type: 'null' },
    bindings: {
      kafka: {
        key: {
          type: 'string',
          description:
            '`<tenantid>/<entityType>/<entityId>` of the purged entity; partitioned by the tenant id.',
        },
        bindingVersion: '0.5.0',
      },
    },
  };
}

/**
 * The AsyncAPI 3.0 document of every topic isams-sync publishes, generated from the event registry
 * and `TOPICS` (written to `libs/events/asyncapi/asyncapi.json` by `npm run gen:asyncapi`; its
 * freshness is checked in CI). Payloads refer to the generated JSON Schemas (`../schemas/<type>.json`).
 */
export function generateAsyncApi(reg: EventRegistry, topics: readonly TopicSpec[]): Record<string, unknown> {
  const channels: Record<string, unknown> = {};
  const operations: Record<string, unknown> = {};
  const messages: Record<string, unknown> = {};
  for (const topic of topics) {
    const published = PUBLISHED_TOPICS[topic.name];
    if (published === undefined) continue;
    const channel = camel(topic.name);
    const channelMessages: Record<string, unknown> = {};
    for (const t of published.types) {
      if (reg.get(t.type) !== t)
        throw new Error(`${t.type} is published on ${topic.name} but not registered`);
      const name = camel(t.type.replace('com.schoolcloud.isams-sync.', ''));
      messages[name] = {
        name: t.type,
        title: t.type,
        summary: t.description,
        contentType: JSON_CONTENT_TYPE,
        headers: { $ref: '#/components/schemas/cloudEventHeaders' },
        payload: { $ref: `../schemas/${t.type}.json` },
        bindings: {
          kafka: {
            key: {
              type: 'string',
              description:
                topic.keying === 'tenant'
                  ? 'The tenant id (school).'
                  : '`<tenantid>/<entityType>/<entityId>`; partitioned by the tenant id (ce_tenantid).',
            },
            bindingVersion: '0.5.0',
          },
        },
        'x-cloudevents-source': t.source,
        'x-dataschema': t.dataschema,
        'x-schema-version': t.schemaVersion,
      };
      channelMessages[name] = { $ref: `#/components/messages/${name}` };
    }
    if (topic.keying === 'tenant-subject') {
      const name = `${channel}Tombstone`;
      messages[name] = tombstoneMessage(topic);
      channelMessages[name] = { $ref: `#/components/messages/${name}` };
    }
    channels[channel] = {
      address: topic.name,
      title: topic.name,
      description: topic.description,
      messages: channelMessages,
      tags: [{ name: published.audience }],
      bindings: {
        kafka: {
          topic: topic.name,
          partitions: topic.partitions,
          topicConfiguration: Object.fromEntries(
            Object.entries(topic.configEntries).map(([k, v]) => [
              k,
              k === 'cleanup.policy' ? v.split(',') : Number.isNaN(Number(v)) ? v : Number(v),
            ]),
          ),
          bindingVersion: '0.5.0',
        },
      },
    };
    operations[`publish${channel[0]!.toUpperCase()}${channel.slice(1)}`] = {
      action: 'send',
      channel: { $ref: `#/channels/${channel}` },
      summary: `isams-sync publishes ${topic.name} (${published.audience}).`,
      messages: Object.keys(channelMessages).map((m) => ({ $ref: `#/channels/${channel}/messages/${m}` })),
    };
  }
  return {
    asyncapi: '3.0.0',
    info: {
      title: 'isams-sync events',
      version: CONTRACTS_VERSION,
      description: [
        'Every topic isams-sync publishes. Events are CloudEvents 1.0 in Kafka binary mode: attributes as',
        '`ce_*` headers, `data` as the JSON value. Channels tagged `public` are contracts other products',
        'may build on (package `@isams-sync/events`, compatibility-checked); `internal` ones may change',
        'with an isams-sync release. Subscribing, ordering, ids and de-duplication: docs/events.md.',
        `Envelope attributes: ${CLOUDEVENT_ATTRIBUTES.join(', ')}.`,
      ].join(' '),
    },
    defaultContentType: JSON_CONTENT_TYPE,
    servers: {
      kafka: {
        host: 'kafka:9092',
        protocol: 'kafka',
        description:
          "The deployment's Kafka cluster (see docs/deploy.md for the brokers of each environment).",
      },
    },
    channels,
    operations,
    components: {
      messages,
      schemas: { cloudEventHeaders: headersSchema(), tombstoneHeaders: tombstoneHeadersSchema() },
    },
  };
}

/** Path of the generated document, relative to `libs/events/` (and to the contracts package root). */
export const ASYNCAPI_FILE = 'asyncapi/asyncapi.json';

/** The document as committed: two-space JSON in generation order, trailing newline. */
export function asyncApiText(reg: EventRegistry, topics: readonly TopicSpec[]): string {
  return `${JSON.stringify(generateAsyncApi(reg, topics), null, 2)}\n`;
}
