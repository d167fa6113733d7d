import { eventually } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import type { RunRecord } from '../../../src/domain/run-record';
import type { RunStatus } from '../../../src/domain/sync-run';
import { RunChanges } from '../../../src/handlers/grpc/run-changes';
import { MAX_WATCH_STREAMS_PER_SCHOOL, RunWatches } from '../../../src/handlers/grpc/run-watches';
import type { WatchedRuns } from '../../../src/handlers/grpc/run-watches';
import { runRecord } from '../../support/run-records';

const NO_POLL = 10 * 60_000;

/** The runs port as the watches read it: records by school and id, every read counted. */
class CountingRuns implements WatchedRuns {
  readonly reads: Array<[string, string]> = [];
  private readonly records = new Map<string, RunRecord>();
  private clock = Date.parse('2026-12-01T08:00:00Z');
  failWith: Error | undefined;

  put(tenantId: string, id: string, status: RunStatus = 'fetching'): RunRecord {
    const run = runRecord(tenantId, id, new Date((this.clock += 1000)), { status });
    this.records.set(JSON.stringify([tenantId, id]), run);
    return run;
  }

  async get(tenantId: string, id: string): Promise<RunRecord | null> {
    this.reads.push([tenantId, id]);
    if (this.failWith) throw this.failWith;
    return this.records.get(JSON.stringify([tenantId, id])) ?? null;
  }

  readsOf(tenantId: string, id: string): number {
    return this.reads.filter(([t, i]) => t === tenantId && i === id).length;
  }
}

/** One stream: the statuses it sent, how it ended, and its cancel. */
class Stream {
  readonly sent: RunStatus[] = [];
  readonly cancel = new AbortController();
  readonly done: Promise<unknown>;
  outcome: 'open' | 'ended' | unknown = 'open';
  /** While set, each send waits for it (a client that does not read). */
  hold: Promise<void> | undefined;

  constructor(watches: RunWatches, tenantId: string, id: string) {
    this.done = watches
      .watch(tenantId, id, this.cancel.signal, async (run) => {
        this.sent.push(run.status);
        await this.hold;
      })
      .then(
        () => (this.outcome = 'ended'),
        (err: unknown) => (this.outcome = err),
      );
  }
}

function world(pollMs = NO_POLL, maxStreamsPerSchool?: number) {
  const runs = new CountingRuns();
  const changes = new RunChanges();
  /** The gRPC server's `stopping`: aborted when this process stops. */
  const server = new AbortController();
  const watches = new RunWatches({
    runs,
    changes,
    pollMs,
    stopping: server.signal,
    ...(maxStreamsPerSchool ? { maxStreamsPerSchool } : {}),
  });
  const open = (tenantId: string, id: string) => new Stream(watches, tenantId, id);
  return { runs, changes, watches, open, server };
}

const until = (check: () => boolean, what: string) => eventually(check, what, { intervalMs: 1 });
const allSent = (streams: Stream[], n: number, what: string) =>
  until(() => streams.every((s) => s.sent.length >= n), what);

describe('RunWatches: the streams of one run share one reader', () => {
  it('reads the run once per wake for all its streams, each sending every change, all ending at the terminal status', async () => {
    const { runs, changes, watches, open } = world();
    runs.put('a', 'r1', 'fetching');
    const streams = Array.from({ length: 6 }, () => open('a', 'r1'));
    await allSent(streams, 1, 'every stream to send the run');
    expect(runs.readsOf('a', 'r1')).toBe(1);
    expect(watches.readerCount).toBe(1);

    runs.put('a', 'r1', 'fetched');
    changes.changed('r1');
    await allSent(streams, 2, 'every stream to send the step');
    expect(runs.readsOf('a', 'r1')).toBe(2);

    runs.put('a', 'r1', 'failed');
    changes.changed('r1');
    await Promise.all(streams.map((s) => s.done));
    expect(streams.map((s) => [s.outcome, ...s.sent])).toEqual(
      Array(6).fill(['ended', 'fetching', 'fetched', 'failed']),
    );
    expect(runs.readsOf('a', 'r1')).toBe(3);
    expect(watches.readerCount).toBe(0);
    expect(watches.streamsOf('a')).toBe(0);
    expect(changes.waitingCount).toBe(0);
  });

  it('sends a reading only when the run’s updatedAt or status changed for that stream', async () => {
    const { runs, changes, open } = world();
    runs.put('a', 'r1', 'fetching');
    const first = open('a', 'r1');
    await allSent([first], 1, 'the first stream to send the run');
    // A wake without a write: read again, the same stamp, nothing sent; a stream that joins now
    // gets the run all the same.
    changes.changed('r1');
    await until(() => runs.readsOf('a', 'r1') === 2, 'the second read');
    const late = open('a', 'r1');
    await allSent([late], 1, 'the late stream to send the run');
    expect(first.sent).toEqual(['fetching']);
    expect(runs.readsOf('a', 'r1')).toBe(2);
    first.cancel.abort();
    late.cancel.abort();
    await Promise.all([first.done, late.done]);
  });

  it('sees another replica’s write at the poll', async () => {
    const { runs, open } = world(5);
    runs.put('a', 'r1', 'fetching');
    const streams = [open('a', 'r1'), open('a', 'r1')];
    await allSent(streams, 1, 'the streams to send the run');
    runs.put('a', 'r1', 'applied');
    await Promise.all(streams.map((s) => s.done));
    expect(streams.map((s) => s.sent)).toEqual([
      ['fetching', 'applied'],
      ['fetching', 'applied'],
    ]);
  });

  it('a stream that does not read holds up no other; it skips to the newest reading and still gets the terminal one', async () => {
    const { runs, changes, open } = world();
    runs.put('a', 'r1', 'fetching');
    let release!: () => void;
    const unread = open('a', 'r1');
    unread.hold = new Promise<void>((resolve) => (release = resolve));
    const reader = open('a', 'r1');
    await allSent([unread, reader], 1, 'both streams to send the run');

    for (const status of ['fetched', 'applying', 'published'] as RunStatus[]) {
      runs.put('a', 'r1', status);
      changes.changed('r1');
      await until(() => reader.sent.at(-1) === status, `the reading stream to send ${status}`);
    }
    runs.put('a', 'r1', 'applied');
    changes.changed('r1');
    await reader.done;
    expect(reader.sent).toEqual(['fetching', 'fetched', 'applying', 'published', 'applied']);
    expect(unread.sent).toEqual(['fetching']);

    release();
    await unread.done;
    expect(unread.outcome).toBe('ended');
    expect(unread.sent).toEqual(['fetching', 'applied']);
  });

  it('stops reading when its last stream is cancelled, also one whose send never completes', async () => {
    const { runs, changes, watches, open } = world();
    runs.put('a', 'r1', 'fetching');
    const stuck = open('a', 'r1');
    stuck.hold = new Promise<void>(() => undefined);
    const other = open('a', 'r1');
    await allSent([stuck, other], 1, 'both streams to send the run');

    other.cancel.abort();
    await other.done;
    expect(watches.readerCount).toBe(1);
    stuck.cancel.abort();
    await stuck.done;
    expect([other.outcome, stuck.outcome]).toEqual(['ended', 'ended']);
    expect(watches.readerCount).toBe(0);
    expect(watches.streamsOf('a')).toBe(0);
    await until(() => changes.waitingCount === 0, 'the reader to stop waiting');

    const reads = runs.readsOf('a', 'r1');
    runs.put('a', 'r1', 'fetched');
    changes.changed('r1');
    const next = open('a', 'r1');
    await allSent([next], 1, 'a new stream to send the run');
    // The stopped reader read nothing more; the new stream's reader read once.
    expect(runs.readsOf('a', 'r1')).toBe(reads + 1);
    expect(next.sent).toEqual(['fetched']);
    next.cancel.abort();
    await next.done;
  });
});

describe('RunWatches: a stream that cannot be served', () => {
  it('keys the reader by school: another school’s stream for the run id gets CONNECTOR_RUN_NOT_FOUND, the owner’s stream goes on', async () => {
    const { runs, changes, watches, open } = world();
    runs.put('a', 'r1', 'fetching');
    const owner = open('a', 'r1');
    await allSent([owner], 1, 'the owner’s stream to send the run');
    const foreign = open('b', 'r1');
    await foreign.done;
    expect(foreign.outcome).toMatchObject({ code: 'CONNECTOR_RUN_NOT_FOUND', kind: 'not_found' });
    expect(foreign.sent).toEqual([]);
    expect(runs.readsOf('b', 'r1')).toBe(1);
    expect(watches.readerCount).toBe(1);

    runs.put('a', 'r1', 'applied');
    changes.changed('r1');
    await owner.done;
    expect([owner.outcome, owner.sent]).toEqual(['ended', ['fetching', 'applied']]);
  });

  it('fails every stream of the run with a failed read; the next stream reads afresh', async () => {
    const { runs, changes, watches, open } = world();
    runs.put('a', 'r1', 'fetching');
    const streams = [open('a', 'r1'), open('a', 'r1')];
    await allSent(streams, 1, 'the streams to send the run');
    const down = new Error('database unreachable');
    runs.failWith = down;
    changes.changed('r1');
    await Promise.all(streams.map((s) => s.done));
    expect(streams.map((s) => s.outcome)).toEqual([down, down]);
    expect(watches.readerCount).toBe(0);

    runs.failWith = undefined;
    const next = open('a', 'r1');
    await allSent([next], 1, 'a new stream to send the run');
    next.cancel.abort();
    await next.done;
    expect(next.outcome).toBe('ended');
  });
});

describe('RunWatches: streams per school', () => {
  it(`refuses a school’s stream beyond ${MAX_WATCH_STREAMS_PER_SCHOOL} with CONNECTOR_WATCH_CAPACITY_EXHAUSTED; other schools and a freed place are served`, async () => {
    const { runs, watches, open } = world();
    runs.put('a', 'r1', 'fetching');
    runs.put('a', 'r2', 'fetching');
    runs.put('b', 'r3', 'fetching');
    const full = Array.from({ length: MAX_WATCH_STREAMS_PER_SCHOOL }, (_, i) =>
      open('a', i % 2 ? 'r1' : 'r2'),
    );
    await allSent(full, 1, 'the school’s streams to send the runs');

    const refused = open('a', 'r1');
    await refused.done;
    expect(refused.outcome).toMatchObject({
      code: 'CONNECTOR_WATCH_CAPACITY_EXHAUSTED',
      kind: 'resource_exhausted',
      details: { limit: MAX_WATCH_STREAMS_PER_SCHOOL },
    });
    expect(refused.sent).toEqual([]);
    expect(watches.streamsOf('a')).toBe(MAX_WATCH_STREAMS_PER_SCHOOL);

    const other = open('b', 'r3');
    await allSent([other], 1, 'another school’s stream to send its run');

    full[0]!.cancel.abort();
    await full[0]!.done;
    const again = open('a', 'r1');
    await allSent([again], 1, 'a stream in the freed place to send the run');

    for (const s of [...full, other, again]) s.cancel.abort();
    await Promise.all([...full, other, again].map((s) => s.done));
    expect(watches.streamsOf('a')).toBe(0);
    expect(watches.readerCount).toBe(0);
  });

  it('counts a refused stream nowhere and a stream of a missing run only while it lasts', async () => {
    const { runs, watches, open } = world(NO_POLL, 1);
    runs.put('a', 'r1', 'fetching');
    const missing = open('a', 'nope');
    await missing.done;
    expect(missing.outcome).toMatchObject({ code: 'CONNECTOR_RUN_NOT_FOUND' });
    const one = open('a', 'r1');
    await allSent([one], 1, 'the stream to send the run');
    const refused = open('a', 'r1');
    await refused.done;
    expect(refused.outcome).toMatchObject({
      code: 'CONNECTOR_WATCH_CAPACITY_EXHAUSTED',
      details: { limit: 1 },
    });
    expect(watches.streamsOf('a')).toBe(1);
    one.cancel.abort();
    await one.done;
    expect(watches.streamsOf('a')).toBe(0);
  });
});

describe('RunWatches: the process stopping', () => {
  it('ends every open stream at once with CONNECTOR_SHUTTING_DOWN (UNAVAILABLE), also one whose send never completes; nothing is left running', async () => {
    const { runs, changes, watches, open, server } = world();
    runs.put('a', 'r1', 'fetching');
    runs.put('a', 'r2', 'fetching');
    runs.put('b', 'r3', 'applying');
    const stuck = open('a', 'r1');
    stuck.hold = new Promise<void>(() => undefined);
    const streams = [stuck, open('a', 'r1'), open('a', 'r2'), open('b', 'r3')];
    await allSent(streams, 1, 'every stream to send its run');
    expect(watches.readerCount).toBe(3);

    server.abort();
    await Promise.all(streams.map((s) => s.done));
    for (const s of streams)
      expect(s.outcome).toMatchObject({ code: 'CONNECTOR_SHUTTING_DOWN', kind: 'unavailable' });
    expect(streams.map((s) => s.sent)).toEqual([['fetching'], ['fetching'], ['fetching'], ['applying']]);
    expect(watches.readerCount).toBe(0);
    expect([watches.streamsOf('a'), watches.streamsOf('b')]).toEqual([0, 0]);
    await until(() => changes.waitingCount === 0, 'the readers to stop waiting');
  });

  it('refuses a stream asked for while stopping with CONNECTOR_SHUTTING_DOWN, reading nothing and counting it nowhere', async () => {
    const { runs, watches, open, server } = world();
    runs.put('a', 'r1', 'fetching');
    server.abort();
    const late = open('a', 'r1');
    await late.done;
    expect(late.outcome).toMatchObject({ code: 'CONNECTOR_SHUTTING_DOWN', kind: 'unavailable' });
    expect(late.sent).toEqual([]);
    expect(runs.readsOf('a', 'r1')).toBe(0);
    expect([watches.readerCount, watches.streamsOf('a')]).toEqual([0, 0]);
  });
});
