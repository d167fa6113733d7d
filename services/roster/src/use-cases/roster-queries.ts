import type { RosterEntityType } from '@isams-sync/events';
import type { ChangesetDoc, EntityRecord, HeldBatchDoc, StoredChange } from './records';
import { compareIds } from '../domain/normalise';
import { CHANGE_CHUNK_SIZE, FINDING_CHUNK_SIZE, ids, markerStaged } from './records';
import { toRecord } from './records';
import type { RosterReadStore } from './ports';
import type { RemovalThreshold, RemovalThresholds } from '../domain/guard';
import { RosterErrors } from '../domain/roster-errors';
import type { RosterFinding } from '../domain/roster-model';
import { matchesWords, searchText, searchWords } from '../domain/search-text';
import type { ChangesetProcessor, SnapshotPlan } from './changeset-processor';
import { SharedLoads } from './shared-loads';

export interface Page<T> {
  items: T[];
  nextPageToken: string;
  totalSize: number;
}

export interface ListEntitiesQuery {
  entityType: RosterEntityType;
  query?: string;
  status: 'active' | 'removed' | 'all';
  filters: { field: string; value: string }[];
  pageSize: number;
  pageToken?: string;
}

export interface ChangeFilter {
  entityType?: string;
  change?: string;
  disposition?: string;
  query?: string;
}

const offsetToken = (n: number, total: number): string =>
  n < total ? Buffer.from(String(n)).toString('base64url') : '';
export function parseOffsetToken(token: string | undefined): number {
  if (!token) return 0;
  const n = Number(Buffer.from(token, 'base64url').toString());
  if (!Number.isInteger(n) || n < 0)
    throw RosterErrors.ROSTER_INVALID_ARGUMENT({
      field: 'page.page_token',
      problem: 'not a token from a previous page',
    });
  return n;
}

/** A change matches a query when its before or its after image does (lists show the after image's name). */
function filterChanges(all: StoredChange[], f: ChangeFilter): StoredChange[] {
  const words = searchWords(f.query);
  const found = (c: StoredChange) =>
    [c.before, c.after].some(
      (image) => image !== undefined && matchesWords(searchText(c.entityType, image), words),
    );
  return all.filter(
    (c) =>
      (!f.entityType || c.entityType === f.entityType) &&
      (!f.change || c.change === f.change) &&
      (!f.disposition || c.disposition === f.disposition) &&
      (words.length === 0 || found(c)),
  );
}

/** A filter matches an entity that has the field with that value; a missing field never matches. */
const hasValue = (v: unknown, value: string): boolean => v !== undefined && v !== null && String(v) === value;

/** A school's entities of one type and status, in id order, as a list page reads them (shared). */
class LoadedEntities {
  private texts: (string | undefined)[];
  constructor(readonly records: EntityRecord[]) {
    this.texts = new Array<string | undefined>(records.length);
  }
  /** The record's search text, worked out once for every caller sharing the load. */
  text(i: number): string {
    const r = this.records[i]!;
    return (this.texts[i] ??= searchText(r.entityType, r.data));
  }
}

/**
 * Read side of the roster: entities, runs, changesets, findings, held batches, dry runs, thresholds.
 * The reads that load a whole set (a type's entities, a run's changes or findings, a held batch's
 * items, a dry run's plan) go through {@link SharedLoads}: shared by concurrent callers, bounded, and
 * dropped when their callers give up (`signal`: the gRPC call's cancel and deadline).
 */
export class RosterQueries {
  constructor(
    private readonly store: RosterReadStore,
    private readonly processor: ChangesetProcessor,
    private readonly defaultThreshold: RemovalThreshold,
    private readonly now: () => Date = () => new Date(),
    private readonly loads: SharedLoads = new SharedLoads(),
  ) {}

  async listEntities(
    tenantId: string,
    q: ListEntitiesQuery,
    signal?: AbortSignal,
  ): Promise<Page<EntityRecord>> {
    const status = q.status === 'all' ? undefined : q.status;
    const loaded = await this.loads.get(
      tenantId,
      `entities|${q.entityType}|${q.status}`,
      signal,
      async (abandoned) => {
        const docs = await this.store.listEntityDocs(tenantId, q.entityType, status);
        abandoned.throwIfAborted();
        const records = docs.map(toRecord).filter((e) => status === undefined || e.status === status);
        return new LoadedEntities(records.sort((a, b) => compareIds(a.entityId, b.entityId)));
      },
    );
    const words = searchWords(q.query);
    const matching = loaded.records.filter(
      (e, i) =>
        (words.length === 0 || matchesWords(loaded.text(i), words)) &&
        q.filters.every((f) => hasValue(e.data[f.field], f.value)),
    );
    return this.page(matching, q.pageSize, q.pageToken);
  }

  async getEntity(tenantId: string, entityType: RosterEntityType, entityId: string): Promise<EntityRecord> {
    const e = await this.store.entity(tenantId, entityType, entityId);
    if (e === null) throw RosterErrors.ROSTER_ENTITY_NOT_FOUND({ entityType, entityId });
    return e;
  }

  async getRun(tenantId: string, syncRunId: string): Promise<ChangesetDoc> {
    const cs = await this.store.getChangeset(tenantId, ids.changeset(tenantId, syncRunId));
    if (cs === null) throw RosterErrors.ROSTER_RUN_NOT_FOUND({ syncRunId });
    return cs;
  }

  /** All stored changes of a changeset (changesets are chunked; filtering is in memory), shared. */
  private changes(cs: ChangesetDoc, signal: AbortSignal | undefined): Promise<StoredChange[]> {
    return this.loads.get(
      cs.tenantId,
      `changes|${cs._id}|${cs.chunkCount ?? 0}`,
      signal,
      async (abandoned) => {
        const all: StoredChange[] = [];
        for (let i = 0; i < (cs.chunkCount ?? 0); i += 1) {
          abandoned.throwIfAborted();
          all.push(...((await this.store.changeChunk(cs.tenantId, cs._id, i))?.changes ?? []));
        }
        return all;
      },
    );
  }

  async listRunChanges(
    tenantId: string,
    syncRunId: string,
    f: ChangeFilter,
    pageSize: number,
    pageToken?: string,
    signal?: AbortSignal,
  ): Promise<Page<StoredChange>> {
    const cs = await this.getRun(tenantId, syncRunId);
    return this.page(filterChanges(await this.changes(cs, signal), f), pageSize, pageToken);
  }

  async listRunFindings(
    tenantId: string,
    syncRunId: string,
    code: string | undefined,
    pageSize: number,
    pageToken?: string,
    signal?: AbortSignal,
  ): Promise<Page<RosterFinding>> {
    const cs = await this.getRun(tenantId, syncRunId);
    const count = cs.findingCount ?? 0;
    const all = await this.loads.get(tenantId, `findings|${cs._id}|${count}`, signal, async (abandoned) => {
      const found: RosterFinding[] = [];
      for (let i = 0; i * FINDING_CHUNK_SIZE < count; i += 1) {
        abandoned.throwIfAborted();
        found.push(...((await this.store.findingChunk(tenantId, syncRunId, i))?.findings ?? []));
      }
      return found;
    });
    const matching = all.filter((x) => !code || x.code === code);
    return this.page(matching, pageSize, pageToken);
  }

  async listHeldBatches(
    tenantId: string,
    status: string | undefined,
    pageSize: number,
    pageToken?: string,
  ): Promise<Page<HeldBatchDoc>> {
    const all = await this.store.listHeldBatches(tenantId, status as HeldBatchDoc['status'] | undefined);
    return this.page(all, pageSize, pageToken);
  }

  async getHeldBatch(
    tenantId: string,
    batchId: string,
    f: ChangeFilter,
    pageSize: number,
    pageToken?: string,
    signal?: AbortSignal,
  ): Promise<{ batch: HeldBatchDoc; records: Page<StoredChange> }> {
    const batch = await this.store.heldBatch(tenantId, batchId);
    if (batch === null) throw RosterErrors.ROSTER_HELD_BATCH_NOT_FOUND({ batchId });
    const items = await this.loads.get(
      tenantId,
      `held|${batchId}|${batch.version ?? 1}|${batch.itemsChangesetId ?? ''}`,
      signal,
      () => this.store.heldItems(batch),
    );
    return { batch, records: this.page(filterChanges(items, f), pageSize, pageToken) };
  }

  /**
   * Normalise + diff + guard a staged snapshot against the current roster; nothing is stored or
   * published. The plan is shared by the callers that ask for it at once.
   */
  async dryRunSnapshot(tenantId: string, syncRunId: string, signal?: AbortSignal): Promise<SnapshotPlan> {
    const cs = await this.getRun(tenantId, syncRunId);
    const complete =
      cs.marker !== undefined && markerStaged(cs.marker, await this.store.stagedChunks(tenantId, syncRunId));
    if (!complete) throw RosterErrors.ROSTER_SNAPSHOT_INCOMPLETE({ syncRunId });
    return this.loads.get(tenantId, `dry-run|${syncRunId}`, signal, () =>
      this.processor.planSnapshot(tenantId, { ...cs, processedAt: this.now() }),
    );
  }

  async thresholds(tenantId: string): Promise<RemovalThresholds> {
    return (await this.store.thresholds(tenantId)) ?? { default: this.defaultThreshold };
  }

  async setThresholds(
    tenantId: string,
    thresholds: RemovalThresholds,
    actor: string | undefined,
  ): Promise<RemovalThresholds> {
    await this.store.setThresholds(tenantId, thresholds, actor, this.now());
    return thresholds;
  }

  private page<T>(all: T[], pageSize: number, pageToken?: string): Page<T> {
    const from = parseOffsetToken(pageToken);
    return {
      items: all.slice(from, from + pageSize),
      totalSize: all.length,
      nextPageToken: offsetToken(from + pageSize, all.length),
    };
  }
}

export { CHANGE_CHUNK_SIZE };
