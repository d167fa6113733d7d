/**
 * `@isams-sync/events` — CloudEvents contracts of isams-sync: the envelope type, deterministic event
 * ids, the event-type registry (zod schemas as the single source of truth) and the declared Kafka
 * topics. Pure: no Kafka client here (see `@isams-sync/kafka`).
 * @packageDocumentation
 */
export {
  CLOUDEVENTS_SPEC_VERSION,
  JSON_CONTENT_TYPE,
  EVENT_TYPE_PATTERN,
  isEventTypeName,
  CLOUDEVENT_EXTENSIONS,
  CLOUDEVENT_ATTRIBUTES,
  TRACEPARENT_PATTERN,
  cloudEventEnvelopeSchema,
  parseCloudEventEnvelope,
} from './cloud-event';
export type { CloudEvent } from './cloud-event';
export { deterministicEventId } from './event-id';
export { compareFetchOrder } from './fetch-order';
export type { FetchComparison, FetchPosition } from './fetch-order';
export { defineEventType } from './define-event-type';
export type { EventType, EventTypeDefinition, CreateEventInput } from './define-event-type';
export { createEventRegistry } from './event-registry';
export type { EventRegistry } from './event-registry';
export { EventErrors } from './event-errors';
export { registry } from './registry';
export { platformPingV1 } from './types/platform-ping.event';
export {
  RAW_ELEMENT_MAX_DEPTH,
  rawElementSchema,
  datasetIdSchema,
  syncTriggerSchema,
  snapshotDatasetSchema,
  rawDatasetChunkV1,
  datasetSnapshotCompletedV1,
} from './types/raw-dataset.events';
export { SYNC_RUN_STATUSES, TERMINAL_SYNC_RUN_STATUSES, syncRunUpdatedV1 } from './types/sync-run.events';
export type { SyncRunStatus } from './types/sync-run.events';
export {
  ENTITY_ID_MAX_CHARS,
  ROSTER_ENTITY_TYPES,
  ROSTER_CHANGES,
  REMOVAL_REASONS,
  rosterChangeDataSchema,
  rosterChangeDataSchemas,
  rosterChangeEventTypeName,
  rosterChangeEventTypes,
  allRosterChangeEventTypes,
} from './types/roster-change.events';
export {
  ROSTER_ENTITY_STATES,
  rosterEntityStateV1,
  rosterRevisionSchema,
  rosterEntityStateDataSchema,
} from './types/roster-change.events';
export type { RosterEntityState, RosterRevision } from './types/roster-change.events';
export {
  DIRECTORY_FIELDS,
  DIRECTORY_ENTITY_TYPES,
  isDirectoryEntityType,
  projectDirectoryImage,
  rosterDirectoryChangeDataSchema,
  rosterDirectoryChangeV1,
  rosterDirectoryStateV1,
} from './types/roster-directory.events';
export type { DirectoryEntityType, RosterDirectoryChangeData } from './types/roster-directory.events';
export type { RosterEntityType, RosterChange, RosterChangeData } from './types/roster-change.events';
export {
  BOOKING_PERSON_KINDS,
  BOOKING_CANCELLATION_REASONS,
  BOOKING_NOT_REINSTATED_REASONS,
  BOOKING_RELEASE_REASONS,
  bookingCancelledV1,
  bookingReinstatedV1,
  bookingNotReinstatedV1,
  bookingCancellationHeldV1,
  bookingCancellationReleasedV1,
  allBookingEventTypes,
} from './types/bookings.events';
export type {
  BookingPersonKind,
  BookingCancellationReason,
  BookingReleaseReason,
} from './types/bookings.events';
export {
  TOPICS,
  TopicNames,
  topicSpec,
  topicsAs,
  dlqTopicName,
  DLQ_PARTITIONS,
  DLQ_RETENTION_DAYS,
} from './topics';
export type { TopicSpec, TopicKeying, TopicUse } from './topics';
export {
  generateEventSchemaFiles,
  stableJson,
  ENVELOPE_SCHEMA_FILE,
  ROSTER_ENTITY_SCHEMA_DIR,
  RELEASED_DIR,
} from './json-schemas';
export {
  SCHEMA_BASE_URI,
  CONTRACTS_VERSION,
  ENVELOPE_SCHEMA_VERSION,
  dataSchemaUri,
  parseSemver,
  typeMajor,
} from './schema-uri';
export { breakingChanges, checkContracts, schemaVersionOf } from './compat';
export type { ContractsRelease } from './compat';
export {
  rosterEntitySchemas,
  anyRosterEntitySchema,
  ROSTER_ENTITY_SCHEMA_VERSION,
} from './types/roster-entities';
export { PUBLISHED_TOPICS, ASYNCAPI_FILE, generateAsyncApi, asyncApiText } from './asyncapi';
export type { PublishedTopic } from './asyncapi';
