/**
 * Where a sync run stands in its school's fetch order, as the run-complete marker carries it
 * (`datasetSnapshotCompletedV1`): `fetchSequence`, taken as the run starts fetching, and
 * `fetchedAt`, the fetching replica's clock.
 */
export interface FetchPosition {
  fetchSequence?: number | undefined;
  fetchedAt?: Date | string | undefined;
}

/** How two runs of a school compare in its fetch order, and what decided it. */
export interface FetchComparison {
  /** > 0: `a` was fetched after `b`; < 0: before; 0: the same place. */
  order: number;
  by: 'sequence' | 'time';
}

/**
 * Compares two runs of one school by the marker's contract (docs/events.md): by `fetchSequence`
 * when both have one — the higher is the newer document, whatever the fetching replicas' clocks
 * said — else by `fetchedAt` (a run without one counts as the earliest), as markers from before
 * the sequence (schema 1.0.0) must be.
 */
export function compareFetchOrder(a: FetchPosition, b: FetchPosition): FetchComparison {
  if (a.fetchSequence !== undefined && b.fetchSequence !== undefined)
    return { order: Math.sign(a.fetchSequence - b.fetchSequence), by: 'sequence' };
  const at = (p: FetchPosition) => (p.fetchedAt === undefined ? -Infinity : new Date(p.fetchedAt).getTime());
  const [x, y] = [at(a), at(b)];
  return { order: x === y ? 0 : x > y ? 1 : -1, by: 'time' };
}
