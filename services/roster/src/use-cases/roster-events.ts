import {
  DIRECTORY_FIELDS,
  isDirectoryEntityType,
  projectDirectoryImage,
  rosterChangeEventTypes,
  rosterDirectoryChangeV1,
  rosterDirectoryStateV1,
  rosterEntityStateV1,
  syncRunUpdatedV1,
} from '@isams-sync/events';
import type { CloudEvent, DirectoryEntityType, SyncRunStatus } from '@isams-sync/events';
import type { ChangesetDoc, EntityRecord, HeldBatchDoc, StoredChange } from './records';
import { ids } from './records';

const subjectOf = (c: Pick<StoredChange, 'entityType' | 'entityId'>): string =>
  `${c.entityType}/${c.entityId}`;

/** The change's id as stored on the entity (`lastChangeId`): unique per changeset and position. */
export function changeIdOf(cs: Pick<ChangesetDoc, 'syncRunId' | 'kind'>, seq: number): string {
  return ids.changeId(cs.kind === 'sync' ? cs.syncRunId : `${cs.syncRunId}~${cs.kind}`, seq);
}

/** The change's order among the entity's changes (both topics carry it); absent before revisions existed. */
const revisionOf = (cs: Pick<ChangesetDoc, 'number'>, c: Pick<StoredChange, 'seq'>) =>
  cs.number === undefined ? {} : { revision: { changeset: cs.number, change: c.seq } };

/**
 * The envelope of a change's events (full and directory). A change event's id = f(type, tenant, run,
 * [approval,] entity), so a re-send keeps it; a state record's always names the changeset's kind.
 */
function envelope(tenantId: string, cs: ChangesetDoc, c: StoredChange, of: 'change' | 'state') {
  return {
    tenantId,
    idParts:
      of === 'change' && cs.kind === 'sync'
        ? [cs.syncRunId, c.entityType, c.entityId]
        : [cs.syncRunId, cs.kind, c.entityType, c.entityId],
    subject: subjectOf(c),
    syncRunId: cs.syncRunId,
    time: cs.processedAt!,
  };
}

/** The last fields of a change event's data (full and directory): removal, restoration, ids. */
const changeTail = (cs: ChangesetDoc, c: StoredChange) => ({
  ...(c.removal === undefined ? {} : { removal: c.removal }),
  ...(c.restoration === undefined ? {} : { restoration: c.restoration }),
  changeId: changeIdOf(cs, c.seq),
  ...revisionOf(cs, c),
});

/**
 * The roster change event of one applied change; id = f(type, tenant, run, [approval,] entity), so a
 * re-send keeps it. An approval's events have ids of their own: a run can apply part of an entity's
 * update (keeping a link to a held person) and its approval the rest — two `updated` events.
 */
export function changeEvent(tenantId: string, cs: ChangesetDoc, c: StoredChange): CloudEvent {
  return rosterChangeEventTypes[c.entityType][c.change].create({
    ...envelope(tenantId, cs, c, 'change'),
    data: {
      syncRunId: cs.syncRunId,
      entityType: c.entityType,
      entityId: c.entityId,
      change: c.change,
      ...(c.before === undefined ? {} : { before: c.before }),
      ...(c.after === undefined ? {} : { after: c.after }),
      ...(c.changedFields === undefined ? {} : { changedFields: c.changedFields }),
      ...changeTail(cs, c),
    },
  });
}

/** The state record the change leaves behind (compacted topic). */
export function stateEvent(tenantId: string, cs: ChangesetDoc, c: StoredChange): CloudEvent {
  const removed = c.change === 'removed';
  return rosterEntityStateV1.create({
    ...envelope(tenantId, cs, c, 'state'),
    data: {
      entityType: c.entityType,
      entityId: c.entityId,
      status: removed ? 'removed' : 'active',
      data: (removed ? c.before : c.after)!,
      lastChangeId: changeIdOf(cs, c.seq),
      ...revisionOf(cs, c),
      syncRunId: cs.syncRunId,
      ...(c.removal === undefined ? {} : { removal: c.removal }),
    },
  });
}

/**
 * The directory fields an update changed; undefined when the change is not for the directory at all
 * (an entity type outside it, or an update of other fields only: nothing to publish there).
 */
function directoryChange(c: StoredChange): { changedFields?: string[] } | undefined {
  if (!isDirectoryEntityType(c.entityType)) return undefined;
  if (c.change !== 'updated' || c.changedFields === undefined) return {};
  const fields = new Set<string>(['id', ...DIRECTORY_FIELDS[c.entityType]]);
  const changedFields = c.changedFields.filter((f) => fields.has(f));
  return changedFields.length === 0 ? undefined : { changedFields };
}

const project = (c: StoredChange, image: StoredChange['before']) =>
  image === undefined ? undefined : projectDirectoryImage(c.entityType, image);

/** The change event reduced to the directory projection (`roster.changes.directory.v1`), if any. */
export function directoryChangeEvent(
  tenantId: string,
  cs: ChangesetDoc,
  c: StoredChange,
): CloudEvent | undefined {
  const directory = directoryChange(c);
  if (directory === undefined) return undefined;
  const before = project(c, c.before);
  const after = project(c, c.after);
  return rosterDirectoryChangeV1.create({
    ...envelope(tenantId, cs, c, 'change'),
    data: {
      syncRunId: cs.syncRunId,
      entityType: c.entityType as DirectoryEntityType,
      entityId: c.entityId,
      change: c.change,
      ...(before === undefined ? {} : { before }),
      ...(after === undefined ? {} : { after }),
      ...directory,
      ...changeTail(cs, c),
    },
  });
}

/** The state record reduced to the directory projection (`roster.state.directory.v1`), if any. */
export function directoryStateEvent(
  tenantId: string,
  cs: ChangesetDoc,
  c: StoredChange,
): CloudEvent | undefined {
  if (directoryChange(c) === undefined) return undefined;
  const removed = c.change === 'removed';
  return rosterDirectoryStateV1.create({
    ...envelope(tenantId, cs, c, 'state'),
    data: {
      entityType: c.entityType as DirectoryEntityType,
      entityId: c.entityId,
      status: removed ? 'removed' : 'active',
      data: project(c, removed ? c.before : c.after)!,
      lastChangeId: changeIdOf(cs, c.seq),
      ...revisionOf(cs, c),
      syncRunId: cs.syncRunId,
      ...(c.removal === undefined ? {} : { removal: c.removal }),
    },
  });
}

/** The content of a purged person's state record: no data, so compaction drops earlier personal data. */
function purgedState(
  tenantId: string,
  entityType: StoredChange['entityType'],
  entityId: string,
  last: Pick<EntityRecord, 'lastChangeId' | 'revision'>,
  at: Date,
) {
  const { lastChangeId, revision } = last;
  return {
    tenantId,
    idParts: ['purged', entityType, entityId, lastChangeId],
    subject: `${entityType}/${entityId}`,
    time: at,
    data: {
      entityType,
      entityId,
      status: 'purged' as const,
      lastChangeId,
      ...(revision === undefined ? {} : { revision }),
    },
  };
}

/** A purged person's state record on `roster.state.v1`. */
export function purgedStateEvent(...args: Parameters<typeof purgedState>): CloudEvent {
  return rosterEntityStateV1.create(purgedState(...args));
}

/** The same record on `roster.state.directory.v1`, for the directory's entity types. */
export function purgedDirectoryStateEvent(...args: Parameters<typeof purgedState>): CloudEvent | undefined {
  const state = purgedState(...args);
  const { entityType } = state.data;
  if (!isDirectoryEntityType(entityType)) return undefined;
  return rosterDirectoryStateV1.create({ ...state, data: { ...state.data, entityType } });
}

/**
 * Sequence of the roster's run reports: applying 1, outcome 2, and 3 after an admin's decision on
 * the run's held batch (`applied` once an approval is applied, or `discarded`; a batch is decided once).
 */
export const REPORT_SEQUENCE = { applying: 1, outcome: 2, decision: 3 } as const;

export function runUpdateEvent(
  tenantId: string,
  cs: ChangesetDoc,
  status: SyncRunStatus,
  sequence: number,
  at: Date,
): CloudEvent {
  return syncRunUpdatedV1.create({
    tenantId,
    idParts: [cs.syncRunId, 'roster', String(sequence)],
    syncRunId: cs.syncRunId,
    time: at,
    data: {
      syncRunId: cs.syncRunId,
      status,
      reportedBy: 'roster',
      sequence,
      at: at.toISOString(),
      trigger: cs.marker?.trigger ?? { kind: 'manual' },
      dryRun: cs.dryRun,
      // A discard or a supersede applies nothing: the run's own counts (what it applied and held) stay as reported.
      ...(cs.counts === undefined || status === 'discarded' || status === 'superseded'
        ? {}
        : { counts: cs.counts as Record<string, never> }),
      // The batch a run held, and the batch a decision (approval, discard, supersede) settled: the
      // connector ends every run held on it, whichever of the run's reports it takes first.
      ...(cs.heldBatchId !== undefined && (status === 'held' || sequence === REPORT_SEQUENCE.decision)
        ? { heldBatchId: cs.heldBatchId, holdKind: cs.holdKind ?? ('removals' as const) }
        : {}),
      ...(cs.error === undefined ? {} : { error: cs.error }),
    },
  });
}

/**
 * The report of the decision on the held batch `batch` the run `cs` opened, when the batch reports it
 * itself (an approval reports through its changeset): sequence 3 `discarded` (an admin discarded it)
 * or `superseded` (a later run, the batch's `lastSyncRunId`, left nothing of it to decide), with the
 * batch and its kind and no counts (the run's own, what it applied and held, stay as reported), at
 * the decision's time. A re-send keeps id and time.
 */
export function runDecisionEvent(cs: ChangesetDoc, batch: HeldBatchDoc): CloudEvent {
  const superseded = batch.status === 'superseded';
  return runUpdateEvent(
    batch.tenantId,
    { ...cs, heldBatchId: batch.batchId, holdKind: batch.kind ?? cs.holdKind ?? 'removals' },
    superseded ? 'superseded' : 'discarded',
    REPORT_SEQUENCE.decision,
    superseded
      ? (batch.decidedAt ?? batch.updatedAt ?? batch.createdAt)
      : (batch.decidedAt ?? cs.completedAt ?? batch.createdAt),
  );
}
