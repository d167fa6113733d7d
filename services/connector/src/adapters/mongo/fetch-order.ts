import type { Document, Filter } from 'mongodb';

/**
 * The filter matching a school's stored document that the run fetched at `order` may replace: one
 * stored by a run fetched before it (`orSame`: or by the same run) — ordered as domain/sync-run
 * `fetchedAfter` orders runs: by fetch sequence when both have one, else by the time in `timeField`
 * (a document stored without a time is always replaced).
 */
export function fetchedNoLaterThan<D extends Document>(
  order: { fetchedAt: Date; fetchSequence?: number | undefined },
  timeField: string,
  orSame: boolean,
): Filter<D> {
  const op = orSame ? '$lte' : '$lt';
  const byTime = { $or: [{ [timeField]: { $exists: false } }, { [timeField]: { [op]: order.fetchedAt } }] };
  if (order.fetchSequence === undefined) return byTime as Filter<D>;
  return {
    $or: [{ fetchSequence: { [op]: order.fetchSequence } }, { fetchSequence: { $exists: false }, ...byTime }],
  } as Filter<D>;
}
