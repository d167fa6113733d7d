import type { CollectionIndexSpec } from '@isams-sync/mongo';

export const ADMIN_TOKENS = 'admin_tokens';
export const AUDIT_LOG = 'audit_log';

/** Indexes of the gateway database, created at start-up. */
export const GATEWAY_INDEXES: CollectionIndexSpec[] = [
  {
    collection: ADMIN_TOKENS,
    indexes: [
      { key: { hash: 1 }, name: 'hash_unique', unique: true },
      { key: { tenantId: 1, createdAt: -1 }, name: 'tenant_created' },
    ],
  },
  {
    collection: AUDIT_LOG,
    indexes: [
      { key: { tenantId: 1, at: -1 }, name: 'tenant_at' },
      // The retention's prune of every school's old entries.
      { key: { at: 1 }, name: 'at' },
    ],
  },
];
