import type { BatchRequest } from '../../src/domain/batch-decision';

/** A batch request from an allowed caller at a fixed time with iSAMS' default limits; `over` changes any of it. */
export const batchRequest = (over: Partial<BatchRequest> = {}): BatchRequest => ({
  callerIp: '10.0.0.1',
  now: 1_000_000,
  internalTimeoutMs: 35_000,
  defaultSlowMs: 5_000,
  ...over,
});
