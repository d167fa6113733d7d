import type { Document } from 'mongodb';
import type { LeaseStore } from './lease-store';
import { MongoErrors } from './mongo-errors';

/** A fencing token: the lease generation a write is made under. */
export interface FencingToken {
  /** The lease key, e.g. a tenant id. */
  readonly key: string;
  /** The generation of the lease; grows with every change of holder. */
  readonly token: number;
}

/** A fencing token that can check itself against the lease store. */
export interface Fence extends FencingToken {
  /** Resolves while the token is the key's newest generation; throws `MONGO_FENCED` once a newer one was issued. */
  check(): Promise<void>;
}

/** The fence of generation `token` of `key` (see `LeaseKeeper`'s `HeldLease.fence`). */
export function createFence(store: Pick<LeaseStore, 'isCurrent'>, key: string, token: number): Fence {
  return {
    key,
    token,
    async check() {
      if (!(await store.isCurrent({ key, generation: token })))
        throw MongoErrors.MONGO_FENCED({ key, token });
    },
  };
}

/**
 * Runs a write under a fence: checks the token, writes, checks again. Refused (`MONGO_FENCED`, the
 * write never sent) when a newer holder exists before it starts — the usual case of a holder that
 * stalled past its expiry and woke up. When the check *after* the write fails, the lease changed
 * hands while the write was in flight: `MONGO_FENCED` with `afterWrite: true` tells the caller to
 * stop. Make the write itself conditional on {@link fenceCondition} (or decide it with a step claim)
 * so the database refuses it too: a condition on MongoDB is atomic; on FerretDB it is evaluated when
 * the command arrives, so it also covers a holder that stalled between its check and its write.
 */
export async function fencedWrite<T>(fence: Fence, write: () => Promise<T>): Promise<T> {
  await fence.check();
  const result = await write();
  try {
    await fence.check();
  } catch (err) {
    if (MongoErrors.MONGO_FENCED.is(err))
      throw MongoErrors.MONGO_FENCED(
        { key: fence.key, token: fence.token, afterWrite: true },
        { cause: err },
      );
    throw err;
  }
  return result;
}

/**
 * A filter condition "not written under a newer token": the document's `fence` field is absent or
 * at most this token. Use it only on documents written under one lease key.
 */
export function fenceCondition(fence: FencingToken, field = 'fence'): Document {
  return { $or: [{ [field]: { $exists: false } }, { [field]: { $lte: fence.token } }] };
}
