import type { SourceFormat } from './settings-rules';

/** The associated data of a bound key (see {@link bindingAad}). */
export const KEY_BINDING = 'tenant-origin';

/**
 * An encrypted Batch API key as stored: AES-256-GCM; AAD = school and iSAMS origin when `binding` is
 * `tenant-origin`, the school only for keys stored before the binding (absent `binding`: legacy).
 */
export interface EncryptedKey {
  kekId: string;
  binding?: typeof KEY_BINDING;
  /** base64 */
  iv: string;
  /** base64 */
  ciphertext: string;
  /** base64, 16 bytes */
  tag: string;
}

/** True for a key stored before the binding (AAD = school only). */
export function isLegacyKey(encrypted: EncryptedKey): boolean {
  return encrypted.binding !== KEY_BINDING;
}

/**
 * One school's data-source settings (`_id` = tenant id), written by the admin's save (and the KEK
 * rotation's re-encryption of the key) only. When the school next runs is its `SchoolSchedule`
 * (domain/schedule), a document of its own.
 */
export interface SchoolSettings {
  _id: string;
  tenantId: string;
  isamsUrl: string;
  format: SourceFormat;
  scheduleMinutes: number;
  enabled: boolean;
  key: EncryptedKey;
  keyLast4: string;
  keyUpdatedAt: Date;
  /** IANA time zone of the school; absent in documents stored before it existed (= the default). */
  timeZone?: string;
  /** Who is e-mailed about the school (held removals, failing runs, stale data); absent = nobody. */
  notificationEmails?: string[];
  updatedAt: Date;
  updatedBy: string;
  /**
   * Goes up by one with every save (optimistic concurrency: a save names the version it was made
   * from); absent in documents stored before versions, which count as version 1.
   */
  version?: number;
}

/** Settings as a save stores them: with the version they become. */
export type VersionedSettings = SchoolSettings & { version: number };

/** The version of stored settings (0: none stored; 1: stored before versions existed). */
export function settingsVersion(settings: SchoolSettings | null): number {
  return settings ? (settings.version ?? 1) : 0;
}
