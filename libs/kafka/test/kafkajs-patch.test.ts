import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

// patches/kafkajs+2.2.4.patch (applied by `patch-package` on install): kafkajs scheduled its pending-
// request check with a negative delay when nothing was pending (tulios/kafkajs#1751), which Node runs
// as a 1 ms timer loop per broker connection (and warns about on Node 24).
const require = createRequire(import.meta.url);

interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
}
type RequestQueueCtor = new (options: Record<string, unknown>) => RequestQueueLike;

function requestQueue(): RequestQueueLike {
  const RequestQueue = require('kafkajs/src/network/requestQueue/index.js') as RequestQueueCtor;
  return new RequestQueue({
    maxInFlightRequests: 1,
    requestTimeout: 1000,
    enforceRequestTimeout: true,
    clientId: 'patch-test',
    broker: '127.0.0.1:1',
    logger: { debug: () => undefined, warn: () => undefined, error: () => undefined, info: () => undefined },
  });
}

describe('kafkajs, as patched', () => {
  it('schedules no pending-request check when nothing is pending and nothing is throttled', () => {
    const queue = requestQueue();
    queue.checkPendingRequests();
    expect(queue.throttleCheckTimeoutId).toBeNull();
  });

  it('still schedules the check while throttled, at the end of the throttle', () => {
    const queue = requestQueue();
    queue.throttledUntil = Date.now() + 60_000;
    queue.checkPendingRequests();
    expect(queue.throttleCheckTimeoutId).not.toBeNull();
    clearTimeout(queue.throttleCheckTimeoutId!);
  });
});
