import { createEventRegistry } from './event-registry';
import { allBookingEventTypes } from './types/bookings.events';
import { platformPingV1 } from './types/platform-ping.event';
import { datasetSnapshotCompletedV1, rawDatasetChunkV1 } from './types/raw-dataset.events';
import { allRosterChangeEventTypes, rosterEntityStateV1 } from './types/roster-change.events';
import { rosterDirectoryChangeV1, rosterDirectoryStateV1 } from './types/roster-directory.events';
import { syncRunUpdatedV1 } from './types/sync-run.events';

/**
 * Every event type isams-sync emits. Add new types here (see README "Adding an event type"); the
 * JSON Schema generator and the docs read this list.
 */
export const registry = createEventRegistry([
  platformPingV1,
  rawDatasetChunkV1,
  datasetSnapshotCompletedV1,
  syncRunUpdatedV1,
  ...allRosterChangeEventTypes,
  rosterEntityStateV1,
  rosterDirectoryChangeV1,
  rosterDirectoryStateV1,
  ...allBookingEventTypes,
]);
