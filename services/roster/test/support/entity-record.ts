import type { EntityRecord } from '../../src/use-cases/records';

/** An active pupil as the store keeps it (its image `{ id, surname }`), changed by run `run`. */
export function pupilRecord(entityId: string, surname = `S${entityId}`): EntityRecord {
  return {
    entityType: 'pupil',
    entityId,
    status: 'active',
    data: { id: entityId, surname } as never,
    lastChangeId: 'run#0',
    lastSyncRunId: 'run',
    changedAt: '2026-11-01T09:00:00.000Z',
    removedAt: null,
    graceUntil: null,
    removal: null,
    purged: false,
    purgedAt: null,
  };
}
