import type { Collection, Document } from 'mongodb';
import type { Fence, FencingToken } from './fence';
import { MongoErrors } from './mongo-errors';
import { assertPortableDocument } from './portable-document';
import { isDuplicateKeyError, toMongoError } from './to-mongo-error';

/**
 * The decided outcome of one step of a record's state machine: `_id = "<recordId>|<step>"`, inserted
 * once. `step` names the state being left; `patch` is what the transition sets.
 */
export interface StepClaimDocument<P extends Document = Document> {
  _id: string;
  recordId: string;
  step: string;
  patch: P;
  /** The lease generation that decided it; null for a step decided outside a lease (e.g. an admin cancel). */
  fence: { key: string; token: number } | null;
  claimedAt: Date;
}

/** The result of {@link claimStep}: `won` when this call decided the step; `claim` is the decided outcome either way. */
export interface StepClaimOutcome<P extends Document = Document> {
  won: boolean;
  claim: StepClaimDocument<P>;
}

/** Arguments of {@link claimStep}. */
export interface ClaimStepRequest<P extends Document> {
  recordId: string;
  /** The state being left (unique per record). */
  step: string;
  patch: P;
  /** The fence of the lease the step is taken under; null when no lease guards it. */
  fence: Fence | null;
  now?: Date;
}

/** The `_id` of a step claim. */
export function stepClaimId(recordId: string, step: string): string {
  return `${recordId}|${step}`;
}

const sameToken = (a: FencingToken | null, b: FencingToken | null): boolean =>
  a !== null && b !== null && a.key === b.key && a.token === b.token;

/**
 * The outcome when the step's claim already exists (see {@link claimStep}): this holder's own claim
 * wins again, a newer holder's refuses this one (`MONGO_FENCED`), any other is adopted. Shared with
 * the in-memory twins of the stores built on step claims.
 */
export function settleExistingClaim<C extends { fence: StepClaimDocument['fence'] }>(
  existing: C,
  fence: Fence | null | undefined,
  step: string,
): { won: boolean; claim: C } {
  const token = fence ? { key: fence.key, token: fence.token } : null;
  if (sameToken(existing.fence, token)) return { won: true, claim: existing };
  if (fence && existing.fence && existing.fence.key === fence.key && existing.fence.token > fence.token) {
    throw MongoErrors.MONGO_FENCED({ key: fence.key, token: fence.token, step });
  }
  return { won: false, claim: existing };
}

/** The fence checked again after a claim was written: superseded meanwhile → `MONGO_FENCED` (`afterWrite`). */
export async function confirmFenceAfterClaim(fence: Fence | null | undefined, step: string): Promise<void> {
  if (!fence) return;
  try {
    await fence.check();
  } catch (err) {
    if (MongoErrors.MONGO_FENCED.is(err))
      throw MongoErrors.MONGO_FENCED(
        { key: fence.key, token: fence.token, step, afterWrite: true },
        { cause: err },
      );
    throw err;
  }
}

/**
 * Decides a state-machine step by a unique insert — the one write FerretDB 1.24 performs
 * atomically — so exactly one outcome per (record, step) exists on MongoDB and FerretDB alike, and a
 * stale holder can never overwrite it:
 *
 * - fence checked first: a holder whose token was superseded is refused (`MONGO_FENCED`) before
 *   writing;
 * - the insert decides: if the step is already claimed under a *newer* token, the caller is stale →
 *   `MONGO_FENCED`; under the same token (its own retry) → `won`; under an older token or none → the
 *   step was decided before this holder got there → `{ won: false, claim }`: adopt `claim.patch`;
 * - fence checked again: if the token was superseded while the claim was in flight → `MONGO_FENCED`
 *   (`afterWrite`). The claim stands as the old holder's last step (it was inserted before the new
 *   holder decided that step) and the new holder adopts it, exactly like the step of a holder that
 *   crashed right after writing it.
 *
 * The record's own document is then updated from the claim (by whoever sees it first); a reader that
 * finds the document behind its claims rolls it forward (see {@link readStepClaim}).
 */
export async function claimStep<P extends Document>(
  coll: Collection<StepClaimDocument<P>>,
  request: ClaimStepRequest<P>,
): Promise<StepClaimOutcome<P>> {
  const { fence } = request;
  if (fence) await fence.check();
  const doc: StepClaimDocument<P> = {
    _id: stepClaimId(request.recordId, request.step),
    recordId: request.recordId,
    step: request.step,
    patch: request.patch,
    fence: fence ? { key: fence.key, token: fence.token } : null,
    claimedAt: request.now ?? new Date(),
  };
  assertPortableDocument(doc);
  try {
    try {
      await coll.insertOne(doc as never);
    } catch (err) {
      if (!isDuplicateKeyError(err)) throw err;
      const existing = (await coll.findOne({ _id: doc._id } as never)) as StepClaimDocument<P> | null;
      if (existing === null) throw err;
      return settleExistingClaim(existing, fence, request.step);
    }
  } catch (err) {
    throw toMongoError(err, { operation: 'claimStep', collection: coll.collectionName });
  }
  await confirmFenceAfterClaim(fence, request.step);
  return { won: true, claim: doc };
}

/** The decided outcome of a record's step, or null while undecided. One read by `_id`. */
export async function readStepClaim<P extends Document = Document>(
  coll: Collection<StepClaimDocument<P>>,
  recordId: string,
  step: string,
): Promise<StepClaimDocument<P> | null> {
  try {
    return (await coll.findOne({ _id: stepClaimId(recordId, step) } as never)) as StepClaimDocument<P> | null;
  } catch (err) {
    throw toMongoError(err, { operation: 'readStepClaim', collection: coll.collectionName });
  }
}

/** Deletes the claims of finished records (each `_id` deleted singly: a point delete on every backend). */
export async function deleteStepClaims(
  coll: Collection<StepClaimDocument>,
  claims: readonly { recordId: string; step: string }[],
): Promise<void> {
  try {
    for (const c of claims) await coll.deleteOne({ _id: stepClaimId(c.recordId, c.step) });
  } catch (err) {
    throw toMongoError(err, { operation: 'deleteStepClaims', collection: coll.collectionName });
  }
}
