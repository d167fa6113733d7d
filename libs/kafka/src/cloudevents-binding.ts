import { parseCloudEventEnvelope, TRACEPARENT_PATTERN } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import { isAppError } from '@isams-sync/errors';
import { traceCarrierOf } from '@isams-sync/telemetry';
import { KafkaErrors } from './kafka-errors';

/** A Kafka record as this package produces it (kafkajs-independent). */
export interface KafkaOutgoingMessage {
  key: string;
  value: string;
  headers: Record<string, string>;
}

/** A Kafka record as received (header values may be Buffers, strings or arrays of them). */
export interface KafkaIncomingMessage {
  key?: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Record<string, Buffer | string | (Buffer | string)[] | undefined>;
}

/** Kafka header carrying the data content type (CloudEvents Kafka binding §3.2.1). */
export const CONTENT_TYPE_HEADER = 'content-type';
/** Prefix of CloudEvents attribute headers in binary mode. */
export const CE_HEADER_PREFIX = 'ce_';

// Attributes that travel as ce_* headers; datacontenttype travels as `content-type` instead.
const HEADER_ATTRIBUTES = [
  'specversion',
  'id',
  'source',
  'type',
  'time',
  'subject',
  'dataschema',
  'tenantid',
  'syncrunid',
  'traceparent',
  'tracestate',
] as const;
const REQUIRED_HEADERS = ['specversion', 'id', 'source', 'type', 'time', 'tenantid'] as const;

/** Options of {@link toKafkaMessage}. */
export interface ToKafkaMessageOptions {
  /**
   * Record key. Defaults to the tenant id (per-school order). Compacted state topics use
   * `<tenantid>/<subject>`; the partitioner still places the record by tenant id.
   */
  key?: string;
}

/**
 * Maps a CloudEvent to a Kafka record in CloudEvents **binary** content mode: attributes as `ce_*`
 * headers, `datacontenttype` as `content-type`, `data` as the JSON value, tenant id as the key.
 * An event without a `traceparent` gets the active span's (the CloudEvents distributed-tracing
 * extension, `ce_traceparent`/`ce_tracestate`); with tracing off there is none to add.
 */
export function toKafkaMessage(event: CloudEvent, options: ToKafkaMessageOptions = {}): KafkaOutgoingMessage {
  const headers: Record<string, string> = {};
  for (const attr of HEADER_ATTRIBUTES) {
    const value = event[attr];
    if (value !== undefined) headers[`${CE_HEADER_PREFIX}${attr}`] = value;
  }
  if (event.traceparent === undefined) {
    const { traceparent, tracestate } = traceCarrierOf();
    if (traceparent !== undefined) headers[`${CE_HEADER_PREFIX}traceparent`] = traceparent;
    if (tracestate !== undefined) headers[`${CE_HEADER_PREFIX}tracestate`] = tracestate;
  }
  headers[CONTENT_TYPE_HEADER] = event.datacontenttype;
  return { key: options.key ?? event.tenantid, value: JSON.stringify(event.data), headers };
}

/** The single string value of a received header, or undefined. */
export function headerValue(headers: KafkaIncomingMessage['headers'], name: string): string | undefined {
  const raw = headers?.[name];
  if (raw === undefined) return undefined;
  const first = Array.isArray(raw) ? raw[0] : raw;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

/**
 * Maps a binary-mode Kafka record back to a CloudEvent and validates the envelope.
 * @throws AppError `KAFKA_MESSAGE_INVALID` when a required `ce_` header is missing, the key is not the
 * `ce_tenantid` (or `<ce_tenantid>/<subject>`), the content type is not JSON, the value is empty or not
 * JSON, or the envelope is invalid.
 */
export function fromKafkaMessage(message: KafkaIncomingMessage): CloudEvent<unknown> {
  const attrs: Record<string, unknown> = {};
  for (const attr of HEADER_ATTRIBUTES) {
    const v = headerValue(message.headers, `${CE_HEADER_PREFIX}${attr}`);
    if (v !== undefined) attrs[attr] = v;
  }
  // A malformed trace context is ignored, as W3C Trace Context asks (the event starts a new trace),
  // never a reason to refuse the event.
  if (typeof attrs.traceparent === 'string' && !TRACEPARENT_PATTERN.test(attrs.traceparent)) {
    delete attrs.traceparent;
    delete attrs.tracestate;
  }
  if (
    typeof attrs.tracestate === 'string' &&
    (attrs.traceparent === undefined || attrs.tracestate === '' || attrs.tracestate.length > 512)
  )
    delete attrs.tracestate;
  const missing = REQUIRED_HEADERS.filter((a) => attrs[a] === undefined);
  if (missing.length > 0) {
    throw KafkaErrors.KAFKA_MESSAGE_INVALID({
      reason: `missing headers ${missing.map((a) => CE_HEADER_PREFIX + a).join(', ')}`,
    });
  }
  // The key places the record (per-school order) and the header says whose it is: a record whose key
  // names no school, or another one, is refused rather than handled as the header's school's.
  if (!keyOfTenant(message.key, attrs.tenantid as string)) {
    throw KafkaErrors.KAFKA_MESSAGE_INVALID({
      reason: 'the record key does not name the tenant of ce_tenantid (its own, or its own and a subject)',
    });
  }
  const contentType = headerValue(message.headers, CONTENT_TYPE_HEADER) ?? 'application/json';
  // Parameters such as `; charset=utf-8` are allowed by the binding.
  if (contentType.split(';')[0]?.trim().toLowerCase() !== 'application/json') {
    throw KafkaErrors.KAFKA_MESSAGE_INVALID({ reason: `unsupported content-type ${contentType}` });
  }
  if (message.value === null || message.value.length === 0) {
    throw KafkaErrors.KAFKA_MESSAGE_INVALID({ reason: 'empty value' });
  }
  let data: unknown;
  try {
    data = JSON.parse(typeof message.value === 'string' ? message.value : message.value.toString('utf8'));
  } catch {
    throw KafkaErrors.KAFKA_MESSAGE_INVALID({ reason: 'value is not JSON' });
  }
  try {
    return parseCloudEventEnvelope({ ...attrs, datacontenttype: 'application/json', data });
  } catch (err) {
    const reason = isAppError(err) ? err.message : 'invalid envelope';
    throw KafkaErrors.KAFKA_MESSAGE_INVALID({ reason }, { cause: err });
  }
}

/** Whether a record's key is `tenantId` or `<tenantId>/<subject>` (the keys {@link toKafkaMessage} writes). */
function keyOfTenant(key: KafkaIncomingMessage['key'], tenantId: string): boolean {
  if (key === null || key === undefined) return false;
  const text = typeof key === 'string' ? key : key.toString('utf8');
  return text === tenantId || (text.length > tenantId.length && text.startsWith(`${tenantId}/`));
}
