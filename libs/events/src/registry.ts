import { createEventRegistry } from './event-registry';
import { platformPingV1 } from './types/platform-ping.event';

/**
 * Every event type isams-sync emits. Add new types here (see README "Adding an event type"); the
 * JSON Schema generator and the docs read this list.
 */
export const registry = createEventRegistry([platformPingV1]);
