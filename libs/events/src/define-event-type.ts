import type { z } from 'zod';
import {
  CLOUDEVENTS_SPEC_VERSION,
  EVENT_TYPE_PATTERN,
  JSON_CONTENT_TYPE,
  formatIssues,
  parseCloudEventEnvelope,
} from './cloud-event';
import type { CloudEvent } from './cloud-event';
import { EventErrors } from './event-errors';
import { deterministicEventId } from './event-id';
import { dataSchemaUri, parseSemver, typeMajor } from './schema-uri';

/** What {@link defineEventType} needs to know about an event type. */
export interface EventTypeDefinition<S extends z.ZodType> {
  /** Reverse-DNS type with a version suffix, e.g. `com.schoolcloud.isams-sync.platform.ping.v1`. */
  type: string;
  /** zod schema of `data`: the single source of truth (JSON Schema is generated from it). */
  schema: S;
  /** One or two sentences: when it is emitted and what a consumer should do with it. */
  description: string;
  /** CloudEvents `source` of the producing service, e.g. `/isams-sync/connector`. */
  source: string;
  /**
   * Semver of the data schema; its major must equal the type's `.v<N>`. Bump the minor for an
   * additive change (the compatibility check, `npm run check:contracts`, insists). Default `<N>.0.0`.
   */
  schemaVersion?: string;
  /**
   * A bulky array field whose items a structural check vouches for far faster than the schema (the
   * raw chunk's records: zod walks and copies every element). When `item` accepts every item —
   * exactly as the schema would return it, no other keys — the schema checks the rest of `data` with
   * the array empty and the items are kept as given; otherwise the schema checks everything (its
   * errors, its stripping of unknown keys). So the outcome is the schema's either way.
   */
  fastArray?: { field: string; item: (value: unknown) => boolean };
}

/** Input of {@link EventType.create}. */
export interface CreateEventInput<T> {
  /** The school's tenant id (also the Kafka key). */
  tenantId: string;
  /** The payload; validated against the type's schema. */
  data: T;
  /**
   * What makes this event unique within its type and tenant (e.g. `[syncRunId, pupilId]`). The id is
   * `deterministicEventId(type, tenantId, ...idParts)`, so a re-send of the same fact has the same id.
   */
  idParts: string[];
  /** The entity the event is about. */
  subject?: string;
  /** Sync run that produced the event. */
  syncRunId?: string;
  /** Occurrence time; defaults to now. */
  time?: Date | string;
}

/** A typed helper for one event type, returned by {@link defineEventType}. */
export interface EventType<S extends z.ZodType = z.ZodType> {
  readonly type: string;
  readonly source: string;
  readonly description: string;
  readonly schema: S;
  /** Semver of the data schema (major = the type's `.v<N>`). */
  readonly schemaVersion: string;
  /** Absolute URI of the data schema, set as `dataschema` on every created event. */
  readonly dataschema: string;
  /**
   * Builds a complete CloudEvent with a deterministic id.
   * @throws AppError `EVENT_DATA_INVALID` when `data` fails the schema.
   */
  create(input: CreateEventInput<z.input<S>>): CloudEvent<z.output<S>>;
  /**
   * Validates an incoming event (envelope, type and data) and returns it typed.
   * @throws AppError `EVENT_ENVELOPE_INVALID`, `EVENT_TYPE_MISMATCH` or `EVENT_DATA_INVALID`.
   */
  parse(event: unknown): CloudEvent<z.output<S>>;
  /** True when the (already envelope-valid) event is of this type. */
  matches(event: Pick<CloudEvent, 'type'>): boolean;
}

/**
 * Defines an event type: its name, the zod schema of its data, its producer and description.
 * Register the result in `registry.ts` so its JSON Schema is generated and documented.
 */
export function defineEventType<S extends z.ZodType>(definition: EventTypeDefinition<S>): EventType<S> {
  const { type, schema, description, source } = definition;
  if (!EVENT_TYPE_PATTERN.test(type)) {
    throw EventErrors.EVENT_DEFINITION_INVALID({
      type,
      reason: 'type must be lowercase reverse-DNS ending in .v<N>',
    });
  }
  if (source.length === 0) throw EventErrors.EVENT_DEFINITION_INVALID({ type, reason: 'source is empty' });
  const schemaVersion = definition.schemaVersion ?? `${typeMajor(type)}.0.0`;
  if (parseSemver(schemaVersion)?.[0] !== typeMajor(type)) {
    throw EventErrors.EVENT_DEFINITION_INVALID({
      type,
      reason: `schemaVersion must be semver with major ${typeMajor(type)} (the type's .v suffix)`,
    });
  }
  const dataschema = dataSchemaUri(type, schemaVersion);

  const { fastArray } = definition;
  const vouched = (data: unknown): data is Record<string, unknown[]> => {
    if (fastArray === undefined || typeof data !== 'object' || data === null) return false;
    const items = (data as Record<string, unknown>)[fastArray.field];
    return Array.isArray(items) && items.every(fastArray.item);
  };
  const parseData = (data: unknown): z.output<S> => {
    if (vouched(data)) {
      const rest = schema.safeParse({ ...data, [fastArray!.field]: [] });
      if (rest.success)
        return { ...(rest.data as object), [fastArray!.field]: data[fastArray!.field] } as z.output<S>;
    }
    const result = schema.safeParse(data);
    if (!result.success) throw EventErrors.EVENT_DATA_INVALID({ type, issues: formatIssues(result.error) });
    return result.data;
  };

  return Object.freeze({
    type,
    source,
    description,
    schema,
    schemaVersion,
    dataschema,
    create(input: CreateEventInput<z.input<S>>): CloudEvent<z.output<S>> {
      const data = parseData(input.data);
      const time = input.time === undefined ? new Date() : new Date(input.time);
      const event: CloudEvent<z.output<S>> = {
        specversion: CLOUDEVENTS_SPEC_VERSION,
        id: deterministicEventId(type, input.tenantId, ...input.idParts),
        source,
        type,
        time: time.toISOString(),
        datacontenttype: JSON_CONTENT_TYPE,
        dataschema,
        tenantid: input.tenantId,
        data,
      };
      if (input.subject !== undefined) event.subject = input.subject;
      if (input.syncRunId !== undefined) event.syncrunid = input.syncRunId;
      // Validates tenant id, subject, time etc. the same way a consumer will.
      parseCloudEventEnvelope(event);
      return event;
    },
    parse(input: unknown): CloudEvent<z.output<S>> {
      const envelope = parseCloudEventEnvelope(input);
      if (envelope.type !== type)
        throw EventErrors.EVENT_TYPE_MISMATCH({ expected: type, actual: envelope.type });
      return { ...envelope, data: parseData(envelope.data) };
    },
    matches(event: Pick<CloudEvent, 'type'>): boolean {
      return event.type === type;
    },
  });
}
