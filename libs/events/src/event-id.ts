import { createHash } from 'node:crypto';

// Fixed namespace of isams-sync event ids (a random UUID chosen once; never change it, or every
// re-sent event gets a new id and consumers stop de-duplicating).
const EVENT_ID_NAMESPACE = '6f1d3c9e-2b47-4f0a-9a52-8d3e7c1b5a24';

/**
 * A stable event id derived from its parts: the same parts always give the same id, so a re-sent
 * event carries the id of the first send and consumers can de-duplicate by it.
 *
 * The id is an RFC 9562 UUIDv8 (name-based, SHA-256): `sha256(namespace ‖ JSON.stringify(parts))`,
 * truncated to 128 bits with the version and variant bits set. JSON array encoding keeps the parts
 * unambiguous (`('a:b','c')` and `('a','b:c')` differ).
 *
 * @example deterministicEventId('com.schoolcloud.isams-sync.platform.ping.v1', tenantId, runId)
 */
export function deterministicEventId(...parts: string[]): string {
  if (parts.length === 0) throw new TypeError('deterministicEventId needs at least one part');
  const hash = createHash('sha256')
    .update(EVENT_ID_NAMESPACE.replaceAll('-', ''), 'hex')
    .update(JSON.stringify(parts), 'utf8')
    .digest();
  const bytes = hash.subarray(0, 16);
  bytes[6] = (bytes[6]! & 0x0f) | 0x80; // version 8
  bytes[8] = (bytes[8]! & 0x3f) | 0x80; // variant 10xx
  const hex = bytes.toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}
