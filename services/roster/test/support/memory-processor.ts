import { ChangesetProcessor } from '../../src/use-cases/changeset-processor';
import type { ProcessorDeps } from '../../src/use-cases/changeset-processor';
import { MemoryTenantLeasing } from './memory-roster';
import type { MemoryRosterState } from './memory-roster';

/**
 * A `ChangesetProcessor` on in-memory ports, as the unit tests run it: 14 grace days, removals held
 * above 10 % (at least 5), a run's chunks awaited for an hour, the school's lease of `replica-1`
 * taken without waiting. `deps` gives the store, publisher and logger and overrides any of these.
 */
export function memoryProcessor(
  state: MemoryRosterState,
  deps: Pick<ProcessorDeps, 'store' | 'publisher' | 'logger'> & Partial<ProcessorDeps>,
): ChangesetProcessor {
  return new ChangesetProcessor({
    graceDays: 14,
    defaultThresholds: { default: { percent: 10, min: 5 } },
    incompleteRunTimeoutMs: 3_600_000,
    leases: new MemoryTenantLeasing(state, 'replica-1'),
    leaseWaitMs: 0,
    ...deps,
  });
}
