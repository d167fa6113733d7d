import { parseCloudEventEnvelope } from './cloud-event';
import type { CloudEvent } from './cloud-event';
import type { EventType } from './define-event-type';
import { EventErrors } from './event-errors';

/** All registered event types, looked up by `type`. */
export interface EventRegistry {
  /** Every registered type, sorted by name. */
  readonly types: readonly EventType[];
  /** The helper for `type`, or undefined. */
  get(type: string): EventType | undefined;
  /**
   * Validates any registered event (envelope, then the data schema of its type).
   * @throws AppError `EVENT_ENVELOPE_INVALID`, `EVENT_TYPE_UNKNOWN` or `EVENT_DATA_INVALID`.
   */
  parse(event: unknown): CloudEvent<unknown>;
}

/** Builds a registry; throws on duplicate type names. */
export function createEventRegistry(types: readonly EventType[]): EventRegistry {
  const byType = new Map<string, EventType>();
  for (const t of types) {
    if (byType.has(t.type))
      throw EventErrors.EVENT_DEFINITION_INVALID({ type: t.type, reason: 'registered twice' });
    byType.set(t.type, t);
  }
  const sorted = Object.freeze([...byType.values()].sort((a, b) => (a.type < b.type ? -1 : 1)));
  return Object.freeze({
    types: sorted,
    get: (type: string) => byType.get(type),
    parse(event: unknown): CloudEvent<unknown> {
      const envelope = parseCloudEventEnvelope(event);
      const t = byType.get(envelope.type);
      if (t === undefined) throw EventErrors.EVENT_TYPE_UNKNOWN({ type: envelope.type });
      return t.parse(envelope);
    },
  });
}
