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
 * @throws AppError `MONGO_INVALID_DOCUMENT` when the value cannot be written as JSON: nested too
 * deeply for `JSON.stringify` (it recurses: 20,000 levels exhaust the stack), a cycle, a bigint.
 */
export function packJson(value: unknown): Binary {
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch (cause) {
    throw MongoErrors.MONGO_INVALID_DOCUMENT({ reason: unserialisable(cause) }, { cause });
  }
  return new Binary(deflateRawSync(Buffer.from(json, 'utf8'), { level: 1 }));
}

/** Why `JSON.stringify` refused a value: the first line of its message (the rest names keys of the value). */
function unserialisable(err: unknown): string {
  if (!(err instanceof Error)) return 'value cannot be stored as JSON';
  if (err instanceof RangeError && err.message.startsWith('Maximum call stack size exceeded'))
    return 'value is nested too deeply to store as JSON';
  return `value cannot be stored as JSON (${err.name}: ${err.message.split('\n', 1)[0]})`;
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
