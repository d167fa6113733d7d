import { getTestInfra, startSystem, type RunningSystem, type StartSystemOptions } from '@isams-sync/testing';
import { afterAll, beforeAll } from 'vitest';
import type { ReferenceSubscriber } from '../../reference-subscriber/subscriber';
import { ChangeEventLog } from './change-events';
import { serviceClients, type ServiceClients } from './grpc-clients';
import { expectCopyEqualsRoster, startSubscriber } from './subscriber-copy';

/** The system an e2e suite runs, and what the suite watches it with. */
export interface WatchedSystem {
  system: RunningSystem;
  clients: ServiceClients;
  /** Every roster change event of the system's changes topic. */
  changes: ChangeEventLog;
  /** The reference subscribers [full, directory]; none unless asked for with `subscribers: true`. */
  subs: ReferenceSubscriber[];
  /** Both reference subscribers' copies of the school equal the roster. */
  expectCopies(tenantId: string): Promise<void>;
}

/**
 * Registers the `beforeAll`/`afterAll` of the calling describe block: the whole system as processes
 * (`startSystem(options)`), gRPC clients of its services, a log of its roster change events and, with
 * `subscribers: true`, the two reference subscribers beside it. Filled in before the block's first
 * test (hooks the block registers later run after these started); all stopped after the block.
 */
export function useWatchedSystem(
  options: StartSystemOptions & { subscribers?: boolean } = {},
): WatchedSystem {
  const { subscribers = false, ...systemOptions } = options;
  const w = {
    subs: [],
    async expectCopies(tenantId: string) {
      await expectCopyEqualsRoster(w.clients, w.subs[0]!, tenantId);
      await expectCopyEqualsRoster(w.clients, w.subs[1]!, tenantId, 'directory');
    },
  } as unknown as WatchedSystem;
  beforeAll(async () => {
    const brokers = getTestInfra().kafkaBrokers;
    w.system = await startSystem(systemOptions);
    w.clients = serviceClients(w.system);
    w.changes = await ChangeEventLog.start(brokers, w.system.topics.changes);
    if (subscribers)
      w.subs = await Promise.all([
        startSubscriber(w.system, brokers),
        startSubscriber(w.system, brokers, 'directory'),
      ]);
  }, 240_000);
  afterAll(async () => {
    for (const sub of w.subs) await sub.stop();
    await w.changes?.stop();
    w.clients?.close();
    await w.system?.stop();
  }, 90_000);
  return w;
}
