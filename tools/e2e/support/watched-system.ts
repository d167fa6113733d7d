import { getTestInfra, startSystem, type RunningSystem, type StartSystemOptions } from '@isams-sync/testing';
import { afterAll, beforeAll } from 'vitest';
import type { ReferenceSubscriber } from '../../reference-subscriber/subscriber';
import { ChangeEventLog } from './change-events';
import { serviceClients, type ServiceClients } from './grpc-clients';
import { School } from './school';
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

/**
 * The whole system as processes (`startSystem(options)`), gRPC clients of its services and one
 * simulated school `schoolId` (from `seed`); if the school cannot be created, the rest is stopped.
 */
export async function startSystemWithSchool(
  options: StartSystemOptions,
  schoolId: string,
  seed: number,
): Promise<{ system: RunningSystem; clients: ServiceClients; school: School }> {
  const system = await startSystem(options);
  const clients = serviceClients(system);
  try {
    return { system, clients, school: await School.create(system, schoolId, seed) };
  } catch (err) {
    await stopSystem(system, clients);
    throw err;
  }
}

/** Closes the clients and stops the system (either unset when its start failed). */
export async function stopSystem(system: RunningSystem | undefined, clients: ServiceClients | undefined) {
  clients?.close();
  await system?.stop();
}
