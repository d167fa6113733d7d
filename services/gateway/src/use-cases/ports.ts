import type { AdminTokenInfo } from '../domain/admin-token';
import type {
  BookingPage,
  Evenings,
  EventPage,
  PersonRef,
  ReinstatementLine,
  RemovalImpact,
} from '../domain/models/bookings.models';
import type {
  DataSourceSettings,
  EgressInfo,
  PutSettingsInput,
  SyncRun,
  SyncRunPage,
  SyncStatus,
  TestConnectionInput,
  TestConnectionResult,
  TriggerSyncResult,
} from '../domain/models/connector.models';
import type {
  ChangePage,
  EntityPage,
  FindingPage,
  HeldBatch,
  HeldBatchDetail,
  HeldBatchList,
  RemovalThresholds,
  RosterEntity,
  RosterRun,
  RunUndo,
} from '../domain/models/roster.models';
import type { CallContext } from '../domain/principal';

/**
 * The gateway's ports: the three services as the gateway's use-cases and handlers use them
 * (implemented over gRPC by `adapters/grpc-clients/`) and the admin-token storage (implemented by
 * `adapters/mongo/admin-token.repository.ts`). Use-cases import these, never an adapter (lint rule).
 */
/** A stored admin token: the HMAC of the token, never the token. */
export interface AdminTokenDocument {
  _id: string;
  tenantId: string;
  hash: string;
  label: string;
  createdAt: Date;
  createdBy: string;
  /** Absent on tokens issued before expiries existed; `tokenExpiry()` then derives one. */
  expiresAt?: Date | null;
  revokedAt: Date | null;
  revokedBy: string | null;
  lastUsedAt: Date | null;
}

/** Storage of school admin tokens. */
export interface AdminTokenRepository {
  insert(doc: AdminTokenDocument): Promise<void>;
  /** The token with this hash (any school: the hash is what identifies the school). */
  findByHash(hash: string): Promise<AdminTokenDocument | null>;
  list(tenantId: string): Promise<AdminTokenInfo[]>;
  /** Marks it revoked; returns the token (revoked) or null when there is none with this id. */
  revoke(tokenId: string, actor: string, at: Date): Promise<AdminTokenInfo | null>;
  touch(tokenId: string, at: Date): Promise<void>;
}

/** The bookings service as the gateway uses it. */
export interface BookingsGateway {
  listEvents(
    ctx: CallContext,
    input: { status?: string; pageSize: number; pageToken?: string },
  ): Promise<EventPage>;
  listEventBookings(
    ctx: CallContext,
    input: { eventId: string; status?: string; pageSize: number; pageToken?: string },
  ): Promise<BookingPage>;
  previewRemovalImpact(
    ctx: CallContext,
    input: { removals: PersonRef[]; heldBatchId?: string; dryRunId?: string },
  ): Promise<Omit<RemovalImpact, 'peopleConsidered'>>;
  /** Sets the school's time zone in bookings (an unknown name → 400 BOOKINGS_TIME_ZONE_UNKNOWN). */
  setSchoolTimeZone(ctx: CallContext, timeZone: string): Promise<void>;
  /** Live evenings (in the school's time zone) and evenings with held cancellations. */
  listEvenings(ctx: CallContext): Promise<Evenings>;
  /** The bookings a run's removals cancelled and what restoring `restoring` does (or did) to each. */
  runReinstatementReport(
    ctx: CallContext,
    input: { syncRunId: string; restoring: PersonRef[] },
  ): Promise<ReinstatementLine[]>;
  close(): void;
}

/** One page of a paged list: its size and where it starts (the previous page's token). */
interface Paging {
  pageSize: number;
  pageToken?: string;
}

/** The roster as the gateway uses it. */
export interface RosterGateway {
  listEntities(
    ctx: CallContext,
    input: Paging & {
      entityType: string;
      query?: string;
      status?: string;
      filters?: Array<{ field: string; value: string }>;
    },
  ): Promise<EntityPage>;
  getEntity(ctx: CallContext, entityType: string, entityId: string): Promise<RosterEntity>;
  getRun(ctx: CallContext, syncRunId: string): Promise<RosterRun>;
  listRunChanges(
    ctx: CallContext,
    input: Paging & { syncRunId: string; entityType?: string; change?: string; disposition?: string },
  ): Promise<ChangePage>;
  listRunFindings(
    ctx: CallContext,
    input: Paging & { syncRunId: string; code?: string },
  ): Promise<FindingPage>;
  listHeldBatches(ctx: CallContext, input: Paging & { status?: string }): Promise<HeldBatchList>;
  getHeldBatch(
    ctx: CallContext,
    input: Paging & { batchId: string; entityType?: string; query?: string },
  ): Promise<HeldBatchDetail>;
  approveHeldBatch(ctx: CallContext, batchId: string, comment: string, version?: number): Promise<HeldBatch>;
  discardHeldBatch(ctx: CallContext, batchId: string, comment: string, version?: number): Promise<HeldBatch>;
  /** The school's removal thresholds (the roster's defaults when never set). */
  getRemovalThresholds(ctx: CallContext): Promise<RemovalThresholds>;
  /** Replaces the school's removal thresholds. */
  setRemovalThresholds(ctx: CallContext, thresholds: RemovalThresholds): Promise<RemovalThresholds>;
  previewRunUndo(ctx: CallContext, syncRunId: string): Promise<RunUndo>;
  undoRun(ctx: CallContext, syncRunId: string, comment: string): Promise<RunUndo>;
  close(): void;
}

/** The connector as the gateway uses it (promise-returning, API-shaped results). */
export interface ConnectorGateway {
  getSettings(ctx: CallContext): Promise<DataSourceSettings>;
  putSettings(ctx: CallContext, input: PutSettingsInput): Promise<DataSourceSettings>;
  testConnection(ctx: CallContext, input: TestConnectionInput): Promise<TestConnectionResult>;
  getEgressInfo(ctx: CallContext): Promise<EgressInfo>;
  triggerSync(ctx: CallContext, input: { dryRun: boolean }): Promise<TriggerSyncResult>;
  getSyncRun(ctx: CallContext, syncRunId: string): Promise<SyncRun>;
  listSyncRuns(
    ctx: CallContext,
    input: { pageSize: number; pageToken?: string; statuses?: string[]; trigger?: string },
  ): Promise<SyncRunPage>;
  cancelSyncRun(ctx: CallContext, syncRunId: string): Promise<SyncRun>;
  /** The run now and on every change until it ends (the connector's WatchSyncRun stream). */
  watchSyncRun(ctx: CallContext, syncRunId: string): AsyncIterable<SyncRun>;
  /** The stored data-as-of time and the e-mails of the last 7 days. */
  getSyncStatus(ctx: CallContext): Promise<SyncStatus>;
  close(): void;
}
