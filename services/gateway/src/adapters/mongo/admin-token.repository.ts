import { tenantCollection, withMongoErrors } from '@isams-sync/mongo';
import type { Db } from 'mongodb';
import type { AdminTokenInfo } from '../../domain/admin-token';
import { tokenExpiry } from '../../domain/admin-token';
import type { AdminTokenDocument, AdminTokenRepository } from '../../use-cases/ports';
import { ADMIN_TOKENS } from './collections';

function toInfo(doc: AdminTokenDocument, maxAgeMs: number): AdminTokenInfo {
  return {
    tokenId: doc._id,
    tenantId: doc.tenantId,
    label: doc.label,
    createdAt: doc.createdAt.toISOString(),
    createdBy: doc.createdBy,
    expiresAt: tokenExpiry(doc.createdAt, doc.expiresAt, maxAgeMs).toISOString(),
    revokedAt: doc.revokedAt?.toISOString() ?? null,
    lastUsedAt: doc.lastUsedAt?.toISOString() ?? null,
  };
}

/** The MongoDB implementation over the `admin_tokens` collection. */
export function createMongoAdminTokenRepository(db: Db, maxAgeMs: number): AdminTokenRepository {
  const raw = db.collection<AdminTokenDocument>(ADMIN_TOKENS);
  return {
    async insert(doc) {
      await tenantCollection<AdminTokenDocument>(db, ADMIN_TOKENS, doc.tenantId).insertOne(doc);
    },
    findByHash: (hash) =>
      withMongoErrors({ operation: 'findOne', collection: ADMIN_TOKENS }, () => raw.findOne({ hash })),
    async list(tenantId) {
      const docs = await tenantCollection<AdminTokenDocument>(db, ADMIN_TOKENS, tenantId).find(
        {},
        { sort: { createdAt: -1 } },
      );
      return docs.map((d) => toInfo(d, maxAgeMs));
    },
    async revoke(tokenId, actor, at) {
      const col = { operation: 'updateOne', collection: ADMIN_TOKENS };
      await withMongoErrors(col, () =>
        raw.updateOne({ _id: tokenId, revokedAt: null }, { $set: { revokedAt: at, revokedBy: actor } }),
      );
      const doc = await withMongoErrors(col, () => raw.findOne({ _id: tokenId }));
      return doc === null ? null : toInfo(doc, maxAgeMs);
    },
    async touch(tokenId, at) {
      await withMongoErrors({ operation: 'updateOne', collection: ADMIN_TOKENS }, () =>
        raw.updateOne({ _id: tokenId }, { $set: { lastUsedAt: at } }),
      );
    },
  };
}
