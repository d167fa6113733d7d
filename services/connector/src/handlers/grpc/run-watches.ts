import { ConnectorErrors } from '../../domain/connector-errors';
import type { RunRecord } from '../../domain/run-record';
import { isTerminal } from '../../domain/sync-run';
import type { RunChanges } from './run-changes';

/**
 * WatchSyncRun streams one school may hold open at once in one connector process; one more is
 * refused with `CONNECTOR_WATCH_CAPACITY_EXHAUSTED` (`RESOURCE_EXHAUSTED`). The gateway allows 20
 * per school per gateway replica; this bounds what several gateway replicas can open together.
 */
export const MAX_WATCH_STREAMS_PER_SCHOOL = 50;

/** The one read of runs a watch needs. */
export interface WatchedRuns {
  get(tenantId: string, syncRunId: string): Promise<RunRecord | null>;
}

/** One read of a run: the run, or why it could not be read (a missing run is `CONNECTOR_RUN_NOT_FOUND`). */
type Reading = { run: RunRecord } | { error: unknown };

/**
 * The reader of one run (of one school) shared by all of its streams in this process: it reads the
 * run at each of this replica's writes of it (woken by {@link RunChanges}) and at least every
 * `pollMs`, and keeps only the newest reading. A stream takes the newest reading whenever it is
 * ready for one, so a stream that sends slowly skips intermediate readings and holds up nobody; the
 * reader stops after a terminal status or a failed read (both stay the newest reading) or when its
 * last stream leaves.
 */
class SharedRunReader {
  private reading: Reading | undefined;
  private version = 0;
  private readonly waiting = new Set<() => void>();
  private readonly stopped = new AbortController();
  private streams = 0;

  constructor(
    private readonly tenantId: string,
    private readonly syncRunId: string,
    private readonly deps: { runs: WatchedRuns; changes: RunChanges; pollMs: number },
    private readonly ended: () => void,
  ) {}

  get isStopped(): boolean {
    return this.stopped.signal.aborted;
  }

  start(): void {
    void this.loop();
  }

  join(): void {
    this.streams += 1;
  }

  /** A stream left; the last one stops the reader. */
  leave(): void {
    this.streams -= 1;
    if (this.streams === 0) this.stop();
  }

  /** The newest reading after the `seen`-th one, or undefined once `signal` aborts. */
  after(seen: number, signal: AbortSignal): Promise<{ version: number; reading: Reading } | undefined> {
    return new Promise((resolve) => {
      const take = (): void => {
        signal.removeEventListener('abort', take);
        this.waiting.delete(take);
        if (signal.aborted || this.reading === undefined) resolve(undefined);
        else resolve({ version: this.version, reading: this.reading });
      };
      if (signal.aborted || this.version > seen) return take();
      this.waiting.add(take);
      signal.addEventListener('abort', take, { once: true });
    });
  }

  private stop(): void {
    if (this.isStopped) return;
    this.stopped.abort();
    this.ended();
  }

  private publish(reading: Reading): void {
    this.reading = reading;
    this.version += 1;
    for (const take of [...this.waiting]) take();
  }

  private async loop(): Promise<void> {
    const { runs, changes, pollMs } = this.deps;
    try {
      while (!this.isStopped) {
        // Asked before the read: a write while the run is read still wakes the reader.
        const changed = changes.next(this.syncRunId, pollMs, this.stopped.signal);
        let reading: Reading;
        try {
          const run = await runs.get(this.tenantId, this.syncRunId);
          reading = run
            ? { run }
            : { error: ConnectorErrors.CONNECTOR_RUN_NOT_FOUND({ syncRunId: this.syncRunId }) };
        } catch (error) {
          reading = { error };
        }
        if (this.isStopped) return;
        this.publish(reading);
        if ('error' in reading || isTerminal(reading.run.status)) return;
        await changed;
      }
    } catch (error) {
      if (!this.isStopped) this.publish({ error });
    } finally {
      this.stop();
    }
  }
}

/** True once `sending` resolved; false as soon as `signal` aborts (the send is left to settle alone). */
function sentUnlessAborted(sending: Promise<void>, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) {
    sending.catch(() => undefined);
    return Promise.resolve(false);
  }
  return new Promise((resolve, reject) => {
    const aborted = (): void => resolve(false);
    signal.addEventListener('abort', aborted, { once: true });
    sending.then(
      () => {
        signal.removeEventListener('abort', aborted);
        resolve(true);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', aborted);
        if (signal.aborted) resolve(false);
        else reject(err);
      },
    );
  });
}

/**
 * The live views of runs (WatchSyncRun) in this process: the streams of one run of one school share
 * one {@link SharedRunReader}, so N admins watching a run cost one read per wake, not N; a school
 * holds at most {@link MAX_WATCH_STREAMS_PER_SCHOOL} streams; and when the process stops (`stopping`)
 * every stream ends at once with `CONNECTOR_SHUTTING_DOWN` instead of holding the gRPC server's stop.
 */
export class RunWatches {
  private readonly readers = new Map<string, SharedRunReader>();
  private readonly streamsPerSchool = new Map<string, number>();

  constructor(
    private readonly deps: {
      runs: WatchedRuns;
      /** Wakes the readers at this replica's writes of their run. */
      changes: RunChanges;
      /** Each reader re-reads its run at least this often (another replica's writes). */
      pollMs: number;
      /** Streams per school (default {@link MAX_WATCH_STREAMS_PER_SCHOOL}). */
      maxStreamsPerSchool?: number;
      /** Aborted when the process stops serving (the gRPC server's `stopping`). */
      stopping: AbortSignal;
    },
  ) {}

  /**
   * Sends the run now and at every change of its `updatedAt` and status until it is terminal (then
   * resolves) or `signal` aborts (then resolves too). Rejects with `CONNECTOR_RUN_NOT_FOUND` for a
   * run the school does not have, with `CONNECTOR_WATCH_CAPACITY_EXHAUSTED` when the school holds
   * its maximum of streams already, with the error of a failed read, and with
   * `CONNECTOR_SHUTTING_DOWN` (`UNAVAILABLE`) at once when the process stops or has begun to.
   */
  async watch(
    tenantId: string,
    syncRunId: string,
    signal: AbortSignal,
    send: (run: RunRecord) => Promise<void>,
  ): Promise<void> {
    const { stopping } = this.deps;
    if (stopping.aborted) throw ConnectorErrors.CONNECTOR_SHUTTING_DOWN();
    this.admit(tenantId);
    const reader = this.readerOf(tenantId, syncRunId);
    reader.join();
    // The stream stops at the client's cancel or the process' stop, whichever comes first.
    const ended = new AbortController();
    const end = (): void => ended.abort();
    if (signal.aborted) end();
    signal.addEventListener('abort', end, { once: true });
    stopping.addEventListener('abort', end, { once: true });
    try {
      let seen = 0;
      let lastStamp = '';
      for (;;) {
        const next = await reader.after(seen, ended.signal);
        if (next === undefined) break;
        seen = next.version;
        if ('error' in next.reading) throw next.reading.error;
        const { run } = next.reading;
        const stamp = `${run.updatedAt.getTime()}:${run.status}`;
        if (stamp !== lastStamp) {
          lastStamp = stamp;
          // A send the client never takes (an unread stream) must not keep its place once it ends.
          if (!(await sentUnlessAborted(send(run), ended.signal))) break;
        }
        if (isTerminal(run.status)) return;
      }
      // Ended early: by the client (nothing more to say) or by the process' stop (go elsewhere).
      if (!signal.aborted) throw ConnectorErrors.CONNECTOR_SHUTTING_DOWN();
    } finally {
      signal.removeEventListener('abort', end);
      stopping.removeEventListener('abort', end);
      reader.leave();
      this.release(tenantId);
    }
  }

  /** Readers running now (for tests). */
  get readerCount(): number {
    return this.readers.size;
  }

  /** The school's streams open now (for tests). */
  streamsOf(tenantId: string): number {
    return this.streamsPerSchool.get(tenantId) ?? 0;
  }

  private admit(tenantId: string): void {
    const limit = this.deps.maxStreamsPerSchool ?? MAX_WATCH_STREAMS_PER_SCHOOL;
    const open = this.streamsOf(tenantId);
    if (open >= limit) throw ConnectorErrors.CONNECTOR_WATCH_CAPACITY_EXHAUSTED({ limit });
    this.streamsPerSchool.set(tenantId, open + 1);
  }

  private release(tenantId: string): void {
    const open = this.streamsOf(tenantId) - 1;
    if (open > 0) this.streamsPerSchool.set(tenantId, open);
    else this.streamsPerSchool.delete(tenantId);
  }

  private readerOf(tenantId: string, syncRunId: string): SharedRunReader {
    // The school is part of the key: a run id of another school never shares its reading.
    const key = JSON.stringify([tenantId, syncRunId]);
    const running = this.readers.get(key);
    if (running !== undefined && !running.isStopped) return running;
    const reader: SharedRunReader = new SharedRunReader(
      tenantId,
      syncRunId,
      { runs: this.deps.runs, changes: this.deps.changes, pollMs: this.deps.pollMs },
      () => {
        if (this.readers.get(key) === reader) this.readers.delete(key);
      },
    );
    this.readers.set(key, reader);
    reader.start();
    return reader;
  }
}
