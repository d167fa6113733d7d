import { z } from 'zod';
import { EventErrors } from './event-errors';

/** The only CloudEvents spec version we emit and accept. */
export const CLOUDEVENTS_SPEC_VERSION = '1.0';
/** True when `type` follows {@link EVENT_TYPE_PATTERN}. */
export function isEventTypeName(type: string): boolean {
  return EVENT_TYPE_PATTERN.test(type);
}

/** The only data content type we emit and accept: `data` is JSON. */
export const JSON_CONTENT_TYPE = 'application/json';

/**
 * Event `type` format: reverse-DNS, lowercase, ending in a version suffix, e.g.
 * `com.schoolcloud.isams-sync.roster.pupil.removed.v1`.
 */
export const EVENT_TYPE_PATTERN = /^[a-z0-9]+(?:\.[a-z0-9-]+)+\.v[1-9][0-9]*$/;

/**
 * A CloudEvents 1.0 event as used across isams-sync (structured view; on Kafka it travels in binary
 * mode, see `@isams-sync/kafka`). `tenantid` and `syncrunid` are CloudEvents extension attributes
 * (lowercase alphanumeric names, as the spec requires).
 */
export interface CloudEvent<T = unknown> {
  /** Always `'1.0'`. */
  specversion: typeof CLOUDEVENTS_SPEC_VERSION;
  /** Unique per event; deterministic (see `deterministicEventId`) so re-sends keep it. */
  id: string;
  /** URI-reference of the producer, e.g. `/isams-sync/connector`. */
  source: string;
  /** Reverse-DNS type with a version suffix. */
  type: string;
  /** The entity the event is about, e.g. a pupil id. */
  subject?: string;
  /** RFC 3339 timestamp of the occurrence. */
  time: string;
  /** Always `'application/json'`. */
  datacontenttype: typeof JSON_CONTENT_TYPE;
  /** URI of the JSON Schema of `data`, when published. */
  dataschema?: string;
  /** Extension: the school's tenant id. Required on every isams-sync event; it is the Kafka key. */
  tenantid: string;
  /** Extension: the sync run that produced the event, when there is one. */
  syncrunid?: string;
  /**
   * Extension (CloudEvents distributed tracing): the W3C trace context of the span that published
   * the event, when tracing is on. Consumers continue the trace from it; see docs/observability.md.
   */
  traceparent?: string;
  /** Extension (CloudEvents distributed tracing): the W3C `tracestate` that goes with `traceparent`. */
  tracestate?: string;
  /** The payload, validated by the event type's zod schema. */
  data: T;
}

/** Extension attribute names we use (lowercase alphanumeric, per the CloudEvents spec). */
export const CLOUDEVENT_EXTENSIONS = ['tenantid', 'syncrunid', 'traceparent', 'tracestate'] as const;

/** A W3C `traceparent` (version 00): `00-<32 hex trace id>-<16 hex span id>-<2 hex flags>`. */
export const TRACEPARENT_PATTERN = /^00-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The envelope attributes in CloudEvents order; `data` excluded. */
export const CLOUDEVENT_ATTRIBUTES = [
  'specversion',
  'id',
  'source',
  'type',
  'subject',
  'time',
  'datacontenttype',
  'dataschema',
  ...CLOUDEVENT_EXTENSIONS,
] as const;

/** zod schema of the envelope with `data` left open (each type validates its own `data`). */
export const cloudEventEnvelopeSchema = z
  .object({
    specversion: z.literal(CLOUDEVENTS_SPEC_VERSION),
    id: z.string().min(1),
    source: z.string().min(1),
    type: z.string().regex(EVENT_TYPE_PATTERN),
    subject: z.string().min(1).optional(),
    time: z.iso.datetime({ offset: true }),
    datacontenttype: z.literal(JSON_CONTENT_TYPE),
    dataschema: z.string().min(1).optional(),
    tenantid: z.string().min(1),
    syncrunid: z.string().min(1).optional(),
    traceparent: z.string().regex(TRACEPARENT_PATTERN).optional(),
    tracestate: z.string().min(1).max(512).optional(),
    data: z.unknown(),
  })
  .strict()
  .meta({
    title: 'isams-sync CloudEvents 1.0 envelope',
    description:
      'Structured view of every isams-sync event. On Kafka the attributes travel as ce_* headers (binary mode), data as the JSON value and tenantid as the key.',
  });

/** Formats zod issues as `path: message` strings (no input values, so no personal data). */
export function formatIssues(error: z.ZodError): string[] {
  return error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`);
}

/**
 * Validates the envelope of any isams-sync event (not its `data`).
 * @throws AppError `EVENT_ENVELOPE_INVALID`
 */
export function parseCloudEventEnvelope(input: unknown): CloudEvent<unknown> {
  const result = cloudEventEnvelopeSchema.safeParse(input);
  if (!result.success) throw EventErrors.EVENT_ENVELOPE_INVALID({ issues: formatIssues(result.error) });
  return result.data as CloudEvent<unknown>;
}
