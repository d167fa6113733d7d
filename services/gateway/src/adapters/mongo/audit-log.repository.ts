import { sweepExpired, tenantCollection } from '@isams-sync/mongo';
import type { Db } from 'mongodb';
import { AUDIT_LOG } from './collections';

/** One audited action: configuration changes, runs triggered, approvals, token issue/revoke. */
export interface AuditEntry {
  tenantId: string;
  action: string;
  actor: string;
  requestId: string;
  /**
   * What was acted on, e.g. `{ batchId, version }`, and the admin's `comment` on a decision (free
   * text, ≤ 1000 characters, kept as written); never a key.
   */
  target?: Record<string, string | number | boolean>;
  outcome: 'succeeded' | 'failed';
  /** Stable error code when it failed. */
  errorCode?: string;
}

/** A stored audit entry. */
export interface AuditRecord extends AuditEntry {
  at: string;
}

/** Append-only audit trail, kept `AUDIT_RETENTION_DAYS` (docs/security.md › Retention). */
export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
  list(tenantId: string, limit: number): Promise<AuditRecord[]>;
  /** Deletes every school's entries made before `before`; how many went. */
  dropOlderThan(before: Date): Promise<number>;
}

interface AuditDocument extends AuditEntry {
  at: Date;
}

/** The MongoDB implementation over the `audit_log` collection. */
export function createMongoAuditLog(db: Db, now: () => Date = () => new Date()): AuditLog {
  return {
    async record(entry) {
      await tenantCollection<AuditDocument>(db, AUDIT_LOG, entry.tenantId).insertOne({ ...entry, at: now() });
    },
    async list(tenantId, limit) {
      const docs = await tenantCollection<AuditDocument>(db, AUDIT_LOG, tenantId).find(
        {},
        { sort: { at: -1 }, limit, projection: { _id: 0 } },
      );
      return docs.map((d) => {
        const { at, ...rest } = d as AuditDocument & { _id?: unknown };
        delete rest._id;
        return { ...rest, at: at.toISOString() };
      });
    },
    dropOlderThan(before) {
      // Every school's: the one query of the audit log not scoped to a school (the `at` index).
      return sweepExpired(db.collection<AuditDocument>(AUDIT_LOG), 'at', before);
    },
  };
}
