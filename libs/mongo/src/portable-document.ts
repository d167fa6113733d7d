import { BSON } from 'mongodb';
import type { Document } from 'mongodb';
import { MongoErrors } from './mongo-errors';

/** MongoDB's BSON document limit. FerretDB 1.24 accepts larger documents; we refuse them on both. */
export const MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

function walk(value: unknown, path: string, insideArray: boolean): void {
  if (typeof value === 'number' && Number.isNaN(value)) {
    throw MongoErrors.MONGO_INVALID_DOCUMENT({ reason: 'NaN is not supported by FerretDB', path });
  }
  if (Array.isArray(value)) {
    if (insideArray) {
      throw MongoErrors.MONGO_INVALID_DOCUMENT({
        reason: 'nested arrays are not supported by FerretDB',
        path,
      });
    }
    value.forEach((item, i) => walk(item, `${path}.${i}`, true));
    return;
  }
  if (!isPlainObject(value)) return;
  for (const [key, child] of Object.entries(value)) {
    if (key.includes('.') || key.startsWith('$')) {
      throw MongoErrors.MONGO_INVALID_DOCUMENT({
        reason: "field names may not contain '.' or start with '$'",
        path: path ? `${path}.${key}` : key,
      });
    }
    walk(child, path ? `${path}.${key}` : key, false);
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/**
 * Throws `MONGO_INVALID_DOCUMENT` unless `doc` is stored identically by MongoDB 7 and FerretDB 1.24:
 * no field name with `.` or a leading `$`, no nested arrays, no NaN, at most 16 MiB of BSON.
 * The write helpers of this library call it on every document they write.
 */
export function assertPortableDocument(doc: Document): void {
  walk(doc, '', false);
  const size = BSON.calculateObjectSize(doc);
  if (size > MAX_DOCUMENT_BYTES) {
    throw MongoErrors.MONGO_INVALID_DOCUMENT({
      reason: `document is ${size} bytes, over the ${MAX_DOCUMENT_BYTES} byte limit`,
    });
  }
}
