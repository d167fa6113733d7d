import { deflateRawSync, inflateRawSync } from 'node:zlib';
import { Binary } from 'mongodb';
import { MongoErrors } from './mongo-errors';

/**
 * A JSON value stored as one compressed binary field (raw DEFLATE, level 1).
 *
 * Why: FerretDB 1.24 (SQLite) decodes every nested field of a document on each read and write —
 * about 4 MB/s for arrays of small objects, so reading back a large school's staged records took
 * minutes. The same data as one `BinData` field reads at tens of MB/s and is 5–20× smaller. Use it
 * for bulky payloads that are only ever read whole by `_id` (never filtered on or updated in part);
 * keep the fields you filter on as ordinary top-level fields beside it.
 *
 * Values must be JSON: `Date`s become ISO strings, `undefined` fields vanish.
 */
export function packJson(value: unknown): Binary {
  return new Binary(deflateRawSync(Buffer.from(JSON.stringify(value), 'utf8'), { level: 1 }));
}

/** Reverses {@link packJson}. A field that is not a packed value fails with MONGO_INVALID_DOCUMENT. */
export function unpackJson<T>(packed: unknown, field = 'packed'): T {
  if (!(packed instanceof Binary))
    throw MongoErrors.MONGO_INVALID_DOCUMENT({ reason: 'expected a packed binary value', path: field });
  try {
    return JSON.parse(inflateRawSync(packed.buffer).toString('utf8')) as T;
  } catch (cause) {
    throw MongoErrors.MONGO_INVALID_DOCUMENT({ reason: 'packed value is corrupt', path: field }, { cause });
  }
}
