import type { RosterEntityType } from '@isams-sync/events';
import type { DatasetId } from '@isams-sync/isams';
import type { RemovalThresholds } from '../../domain/guard';
import type { DiscardedChange } from '../../domain/held-batch';
import type { EntityRecord, ManifestEntry } from '../../use-cases/records';

// The roster's records (changesets, changes, entities, held batches) are the use-cases' own
// (`use-cases/records.ts`); these are the documents only the MongoDB store knows.

/**
 * `entityManifests` (`<tenant>|<type>|m<n>`): per school and type, MANIFEST_CHUNKS chunks listing
 * the entities of the type whose id hashes to chunk n (`chunkOf`), sorted by id, with each entity's
 * image hash and status; `entries` is stored packed. A resync reads these instead of every image.
 * A chunk too large for one document is stored in 2^`level` parts (`manifest-parts.ts`), part p
 * at `m<n + MANIFEST_CHUNKS × p>`; a document without `level` is a whole chunk (level 0).
 */
export interface ManifestChunkDoc {
  _id: string;
  tenantId: string;
  entityType: RosterEntityType;
  /** The stored chunk number: the chunk (`chunkOf`) + MANIFEST_CHUNKS × the part. */
  chunk: number;
  /** How many times the chunk is split in two (absent: 0, one document). */
  level?: number;
  /** The part of the chunk (absent: 0). */
  part?: number;
  /** The lease token it was written under (absent: written without one). */
  fence?: number;
  entries: ManifestEntry[];
}

/**
 * `entityBuckets` (before #17, migrated on start and then deleted): the stored roster as 4 packed
 * documents per tenant and type (`<tenant>|<type>|b<n>`), each the sorted list of its entities.
 */
export interface EntityBucketDoc {
  _id: string;
  tenantId: string;
  entityType: RosterEntityType;
  bucket: number;
  entities: EntityRecord[];
}

/**
 * `chunkReceipts`: a small record per staged chunk (same `_id`), to check a run's completeness without
 * reading chunks.
 */
export interface ChunkReceiptDoc {
  _id: string;
  tenantId: string;
  syncRunId: string;
  datasetId: DatasetId;
  /** The dataset version's fingerprint; absent on receipts staged before chunks were keyed by it (not counted). */
  fingerprint?: string;
  chunkIndex: number;
  /**
   * When the chunk was staged, or last delivered again (the sweep of abandoned chunks reads it);
   * absent on receipts staged before it was recorded (dated by their chunk's `receivedAt`).
   */
  receivedAt?: Date;
}

/** `discardedChanges` (`<tenant>|discarded`): the changes admins discarded that still hold (see `DiscardMemory`). */
export interface DiscardedChangesDoc {
  _id: string;
  tenantId: string;
  entries: DiscardedChange[];
  updatedAt: Date;
}

/** `openChangesets`: one entry per unfinished changeset (the sweeper's work list; `_id` = changeset id). */
export interface OpenChangesetDoc {
  _id: string;
  tenantId: string;
  receivedAt: Date;
}

/** `settings`: per-school removal thresholds. */
export interface SettingsDoc {
  _id: string;
  tenantId: string;
  thresholds: RemovalThresholds;
  updatedAt: Date;
  updatedBy?: string;
}

/**
 * Manifest chunks per tenant and entity type (`chunkOf`). A large school's 30,000 set memberships make
 * four documents of ~0.3 MB packed; a run rewrites only the chunks its changes touch (a chunk past
 * 8 MiB packed is stored in parts: `manifest-parts.ts`). Also the number
 * of the legacy `entityBuckets` per type (same hash), which the migration relies on. Changing it needs
 * a migration of stored manifests.
 */
export const MANIFEST_CHUNKS = 4;

/** The manifest chunk (and legacy bucket) of an entity id (FNV-1a, stable across processes and versions). */
export function chunkOf(entityId: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < entityId.length; i += 1) {
    h ^= entityId.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % MANIFEST_CHUNKS;
}
