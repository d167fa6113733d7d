import { defineErrors } from '@isams-sync/errors';

/** Error catalogue of `@isams-sync/events`. */
export const EventErrors = defineErrors({
  /** The `data` of an event does not match its type's zod schema. */
  EVENT_DATA_INVALID: {
    kind: 'invalid_argument',
    message: (d: { type: string; issues: string[] }) =>
      `Invalid data for event type ${d.type}: ${d.issues.join('; ')}`,
  },
  /** The CloudEvents envelope is malformed (missing/invalid attributes). */
  EVENT_ENVELOPE_INVALID: {
    kind: 'invalid_argument',
    message: (d: { issues: string[] }) => `Invalid CloudEvents envelope: ${d.issues.join('; ')}`,
  },
  /** An event was parsed with the helper of a different type. */
  EVENT_TYPE_MISMATCH: {
    kind: 'invalid_argument',
    message: (d: { expected: string; actual: string }) =>
      `Expected event type ${d.expected}, got ${d.actual}`,
  },
  /** No event type with this name is registered. */
  EVENT_TYPE_UNKNOWN: {
    kind: 'invalid_argument',
    message: (d: { type: string }) => `Unknown event type ${d.type}`,
  },
  /** A definition breaks the naming rules (type format, duplicate registration). */
  EVENT_DEFINITION_INVALID: {
    kind: 'internal',
    message: (d: { type: string; reason: string }) => `Invalid event type definition ${d.type}: ${d.reason}`,
  },
});
