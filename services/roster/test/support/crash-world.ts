import type { CloudEvent } from '@isams-sync/events';
import type { BatchConsumerContext, ConsumerContext } from '@isams-sync/kafka';
import { createLogger } from '@isams-sync/logger';
import { rawDatasetsHandlers } from '../../src/handlers/kafka/raw-datasets.handler';
import type { RosterMemory } from '../../src/use-cases/changeset-processor';
import { ImageMemory, StagedChunkMemory } from '../../src/use-cases/process-memory';
import { HeldBatches } from '../../src/use-cases/held-batches';
import type { ChangesetStore, RosterPublisher } from '../../src/use-cases/ports';
import { MemoryPublisher, MemoryRosterStore, MemoryTenantLeasing, emptyRosterState } from './memory-roster';
import type { MemoryRosterState } from './memory-roster';
import { memoryProcessor } from './memory-processor';
import { snapshotEvents } from './school-feed';
import type { Datasets } from './school-feed';

/**
 * What happens to a school, in order: a run's feed (chunks, then its marker; `only` one of them: a
 * version of a dataset the connector published and then abandoned is chunks without its marker),
 * or an admin's approval or discard of a held batch.
 */
export type WorldStep =
  | {
      kind: 'feed';
      tenantId: string;
      syncRunId: string;
      datasets: Datasets;
      dryRun?: boolean;
      chunkSize?: number;
      only?: 'chunks' | 'marker';
      /** When the connector fetched the run's document (ISO; default the world's `NOW`). */
      fetchedAt?: string;
      /** The run's place in the school's fetch order (the marker's `fetchSequence`; default none). */
      fetchSequence?: number;
    }
  | { kind: 'approve' | 'discard'; tenantId: string; batchId: string; actor: string };

/** Where the first process dies: right before, or right after, its `call`-th store or publisher call. */
export interface CrashPoint {
  call: number;
  when: 'before' | 'after';
}

const logger = createLogger({ service: 'roster-crash-matrix', level: 'silent' });
const NOW = new Date('2026-11-30T09:00:00Z');

/** One delivery of the consumer: a raw-datasets event, or an admin call. */
type Delivery =
  | { kind: 'event'; event: CloudEvent }
  | { kind: 'decide'; step: WorldStep & { kind: 'approve' | 'discard' } };

const made = new WeakMap<WorldStep, Delivery[]>();

/** A step's deliveries (made once per step: the events of a run are the same on every delivery). */
function deliveries(steps: readonly WorldStep[]): Delivery[] {
  return steps.flatMap((s): Delivery[] => {
    const known = made.get(s);
    if (known !== undefined) return known;
    const list = deliveriesOf(s);
    made.set(s, list);
    return list;
  });
}

function deliveriesOf(s: WorldStep): Delivery[] {
  if (s.kind !== 'feed') return [{ kind: 'decide', step: s }];
  const { chunks, marker } = snapshotEvents(s.tenantId, s.syncRunId, s.datasets, {
    fetchedAt: s.fetchedAt ?? NOW.toISOString(),
    ...(s.fetchSequence === undefined ? {} : { fetchSequence: s.fetchSequence }),
    ...(s.dryRun === true ? { dryRun: true } : {}),
    ...(s.chunkSize === undefined ? {} : { chunkSize: s.chunkSize }),
  });
  const events = s.only === 'chunks' ? chunks : s.only === 'marker' ? [marker] : [...chunks, marker];
  return events.map((event) => ({ kind: 'event', event }));
}

/** Consecutive events in groups of up to `size` (a fetched batch each); an admin's decision alone. */
function grouped(queue: readonly Delivery[], size: number): Delivery[][] {
  const out: Delivery[][] = [];
  for (const d of queue) {
    const last = out.at(-1);
    if (d.kind === 'event' && last !== undefined && last[0]!.kind === 'event' && last.length < size)
      last.push(d);
    else out.push([d]);
  }
  return out;
}

class Crashed extends Error {}

/**
 * Counts the calls a process makes on its store and publisher (one sequence across both) and, at
 * the crash point, throws — before the call, or after it took effect; from then on the process is
 * dead and every call of it throws.
 */
class CallMeter {
  readonly calls: string[] = [];
  dead = false;
  constructor(
    private readonly crash?: CrashPoint,
    /** Each store call takes effect a turn of the event loop later, as a database's answer comes. */
    private readonly storeLatency = false,
  ) {}

  wrap<T extends object>(target: T, name: string): T {
    return new Proxy(target, {
      get: (t, prop, receiver) => {
        const v = Reflect.get(t, prop, receiver) as unknown;
        if (typeof v !== 'function' || typeof prop !== 'string') return v;
        return async (...args: unknown[]) => {
          if (this.dead) throw new Crashed('the process is dead');
          const n = this.calls.push(`${name}.${prop}`) - 1;
          if (this.crash?.call === n && this.crash.when === 'before') this.die(n);
          if (this.storeLatency && name === 'store') await new Promise((resolve) => setImmediate(resolve));
          const result = await (v as (...a: unknown[]) => Promise<unknown>).apply(t, args);
          if (this.crash?.call === n && this.crash.when === 'after') this.die(n);
          return result;
        };
      },
    });
  }

  private die(n: number): never {
    this.dead = true;
    throw new Crashed(`simulated crash ${this.crash!.when} call #${n} (${this.calls[n]})`);
  }
}

/** What a roster process keeps in hand, sized as the service's defaults. */
export function processMemory(): RosterMemory {
  return { chunks: new StagedChunkMemory(64 * 1024 * 1024), images: new ImageMemory(100_000) };
}

/** One roster process on the shared state: the processor, the held-batch actions and the raw-datasets handlers. */
function startProcess(
  state: MemoryRosterState,
  broker: MemoryPublisher,
  meter: CallMeter,
  owner: string,
  memory: RosterMemory | undefined,
) {
  const store = meter.wrap<ChangesetStore & MemoryRosterStore>(new MemoryRosterStore(state), 'store');
  const publisher = meter.wrap<RosterPublisher>(broker, 'publisher');
  const background: Promise<void>[] = [];
  const processor = memoryProcessor(state, {
    store,
    publisher,
    logger,
    leases: new MemoryTenantLeasing(state, owner),
    background: (work) => background.push(work),
    now: () => NOW,
    ...(memory === undefined ? {} : { memory }),
  });
  const heldBatches = new HeldBatches(store, processor, publisher, () => NOW);
  const { handler, batchHandler } = rawDatasetsHandlers({
    store,
    processor,
    now: () => NOW,
    background: (work) => background.push(work),
    ...(memory === undefined ? {} : { chunks: memory.chunks }),
  });
  const ctx = {
    topic: 'raw',
    partition: 0,
    offset: '0',
    attempt: 1,
    bytes: 0,
    logger,
    heartbeat: async () => {},
  };
  return {
    processor,
    /**
     * One sweep of the service (app.ts `sweepOnce`, its changeset parts): stranded approvals,
     * unreported decisions, then unfinished changesets.
     */
    async sweep(): Promise<void> {
      await heldBatches.resumeStrandedApprovals(NOW);
      await heldBatches.resumeDecisionReports(NOW);
      await this.drain();
      await processor.resumeAll();
    },
    /**
     * Handles one delivery — or several events of one fetched batch, through the batch handler as
     * the consumer hands them over; resolves when it is answered (the consumer commits, the admin has
     * the answer).
     */
    async deliver(group: readonly Delivery[]): Promise<void> {
      const d = group[0]!;
      if (group.length > 1) {
        const events = group.flatMap((g) => (g.kind === 'event' ? [g.event] : []));
        await batchHandler(events, {
          ...ctx,
          firstOffset: '0',
          lastOffset: String(events.length - 1),
          sizes: events.map(() => 0),
          inEventTrace: (_event, fn) => fn(),
        } as BatchConsumerContext);
      } else if (d.kind === 'event') await handler(d.event, ctx as ConsumerContext);
      else {
        const { kind, tenantId, batchId, actor } = d.step;
        if (kind === 'approve')
          await heldBatches.approve({ tenantId, batchId, actor, comment: 'leavers confirmed' });
        else await heldBatches.discard({ tenantId, batchId, actor, comment: 'feed glitch' });
      }
    },
    /** Waits for the work started in the background (a failure is the crash: it rejects). */
    async drain(): Promise<void> {
      while (background.length > 0) await background.shift();
    },
  };
}

/** A school's roster service over in-memory ports: its state, its broker, and how far its consumer got. */
export interface World {
  state: MemoryRosterState;
  broker: MemoryPublisher;
}

export function newWorld(): World {
  return { state: emptyRosterState(), broker: new MemoryPublisher() };
}

/** A copy of a world's state with an empty broker (the base of a scenario that starts after earlier runs). */
export function forkWorld(w: World): World {
  return { state: structuredClone(w.state), broker: new MemoryPublisher() };
}

/** What a play did: the first process's calls, and where it died (if it did). */
export interface Played {
  calls: string[];
  crashedAt?: string;
}

/**
 * Plays `steps` on the world. With a crash point, the first process dies there; a fresh process on
 * the same state then starts as the service does (resume every unfinished changeset, rebuilding the
 * list), gets the deliveries that were not answered yet (the consumer's uncommitted offsets, an
 * admin's retried approval or discard — or, with `adminRetries: false`, not the decision the crash
 * cut off: its admin gave up), and a sweep resumes whatever is still unfinished. With `storeLatency`, the first
 * process's store calls take effect a turn later (the order of calls then matters as it does on a database).
 * Each process keeps its own memory of staged chunks and images, as the service does (`memory: false`:
 * none; a given one: the first process's — the same process as an earlier play that had it).
 */
export async function play(
  world: World,
  steps: readonly WorldStep[],
  crash?: CrashPoint,
  options: {
    adminRetries?: boolean;
    storeLatency?: boolean;
    memory?: RosterMemory | false;
    /** Raw-datasets events handed over up to this many at a time, as fetched batches are (default 1). */
    batch?: number;
  } = {},
): Promise<Played> {
  const queue = deliveries(steps);
  const batch = options.batch ?? 1;
  const meter = new CallMeter(crash, options.storeLatency);
  const remembers = options.memory !== false;
  const first = startProcess(
    world.state,
    world.broker,
    meter,
    'replica-1',
    remembers ? options.memory || processMemory() : undefined,
  );
  let answered = 0;
  let crashedAt: string | undefined;
  try {
    for (const group of grouped(queue, batch)) {
      await first.deliver(group);
      answered += group.length;
      await first.drain();
    }
  } catch (err) {
    if (!(err instanceof Crashed)) throw err;
    crashedAt = err.message;
  }
  if (crashedAt === undefined) return { calls: meter.calls };
  // A dead process's lease ends with it (here at once; in a cluster when it expires).
  const second = startProcess(
    world.state,
    world.broker,
    new CallMeter(),
    'replica-2',
    remembers ? processMemory() : undefined,
  );
  await second.processor.resumeAll({ rebuild: true });
  const cutOff = queue[answered];
  const gaveUp = options.adminRetries === false && cutOff?.kind === 'decide';
  // The batch the crash cut off is fetched again from its first event.
  for (const group of grouped(queue.slice(gaveUp ? answered + 1 : answered), batch)) {
    await second.deliver(group);
    await second.drain();
  }
  await second.sweep();
  return { calls: meter.calls, crashedAt };
}
