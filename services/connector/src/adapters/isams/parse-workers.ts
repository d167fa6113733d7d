import { Worker } from 'node:worker_threads';
import { IsamsError, ISAMS_ERROR_CODES } from '@isams-sync/isams';
import type { BatchParser, IsamsErrorCode, StreamBatchOptions } from '@isams-sync/isams';
import type { Logger } from '@isams-sync/logger';
import type { LineEvent } from './line-events';

// ---- the messages between the connector and its parse workers -----------------------------------

/** To a worker: one job per document; `ack` hands back a batch's credit, `fail` says the input failed. */
export type ToParseWorker =
  | { t: 'start'; job: number; opts: StreamBatchOptions }
  | { t: 'data'; job: number; bytes: Uint8Array }
  | { t: 'end' | 'fail' | 'cancel' | 'ack'; job: number };

/** From a worker: `taken` when the parse took an input chunk; `done` after the last batch. */
export type FromParseWorker =
  | { t: 'batch'; job: number; events: readonly LineEvent[] }
  | { t: 'taken' | 'done'; job: number }
  | { t: 'error'; job: number; error: WireError };

/** An error thrown in a worker as it crosses to the connector's thread. */
export type WireError =
  | {
      kind: 'isams';
      code: string;
      message: string;
      details?: Record<string, unknown>;
      transient: boolean;
      adminAction: string;
    }
  /** The input's own failure, which the connector's thread holds (it read the input). */
  | { kind: 'input' }
  | { kind: 'other'; name: string; message: string; stack?: string };

/** How many input chunks may wait in a worker for the parse (each one network read, ~16–64 KiB). */
export const INPUT_CHUNKS_AHEAD = 32;
/** How many batches a worker may post before the connector's thread takes them. */
export const BATCHES_AHEAD = 32;
/**
 * A worker's heap limit. The parse holds one record at a time (at most `maxRecordBytes`, 1 MiB),
 * the record ids it has seen (8 bytes each) and a few batches; a worker that still runs out of
 * heap ends alone, failing the runs it was parsing, and is replaced — the connector goes on.
 */
export const PARSE_WORKER_HEAP_MB = 512;

const ISAMS_CODES = new Set<string>(ISAMS_ERROR_CODES);

/** The error a worker reported, as the connector's thread throws it. */
export function fromWire(error: Exclude<WireError, { kind: 'input' }>): Error {
  if (error.kind === 'isams' && ISAMS_CODES.has(error.code)) {
    return new IsamsError({
      code: error.code as IsamsErrorCode,
      message: error.message,
      ...(error.details ? { details: error.details } : {}),
      transient: error.transient,
      adminAction: error.adminAction,
    });
  }
  const err = new Error(error.message);
  if (error.kind === 'other') {
    err.name = error.name;
    if (error.stack !== undefined) err.stack = error.stack;
  }
  return err;
}

// ---- the pool ------------------------------------------------------------------------------------

interface Job {
  /** Batches received and not yet handed out. */
  batches: (readonly LineEvent[])[];
  /** How the job ended (after the batches above): done, or the error to throw. */
  end: { error?: Error | { input: true } } | undefined;
  wakeReader: (() => void) | undefined;
  /** Input chunks posted and not yet taken by the parse. */
  chunksAhead: number;
  wakePump: (() => void) | undefined;
  /** The reader stopped (ended, failed or gave up): the pump stops too. */
  stopped: boolean;
  /** The input's own failure (thrown instead of the worker's report of it). */
  inputError: { error: unknown } | undefined;
}

interface PooledWorker {
  worker: Worker;
  jobs: Map<number, Job>;
  /** Set once the worker exited or failed: it takes no more jobs. */
  gone: boolean;
}

/** The worker's module, beside this one: TypeScript in development and tests, the bundle's `.js` in an image. */
const WORKER_URL = new URL(
  import.meta.url.endsWith('.ts') ? './parse.worker.ts' : './parse.worker.js',
  import.meta.url,
);

/**
 * Worker threads that stream-parse the connector's documents, so the parse (the XML or JSON reader,
 * each record's canonical JSON) runs on its own core while the connector's thread spools, plans and
 * publishes. {@link parse} is a {@link BatchParser}: the same events, errors and order as
 * {@link parseIntoLines} on this thread. Each document is one job on the worker with the fewest;
 * a worker runs any number of jobs. Memory stays bounded both ways: at most
 * {@link INPUT_CHUNKS_AHEAD} input chunks wait in a worker and {@link BATCHES_AHEAD} batches on this
 * thread, so a slow consumer slows the download. A worker that fails or exits fails its jobs (their
 * runs fail and are retried as any failed run) and is replaced when the next document comes.
 */
export class ParseWorkerPool {
  private readonly workers: PooledWorker[] = [];
  private nextJob = 1;
  private closed = false;

  constructor(
    size: number,
    private readonly logger?: Logger,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new RangeError('a parse worker pool needs at least one worker');
    for (let i = 0; i < size; i++) this.workers.push(this.spawn());
  }

  /** Parses one document on a worker (see {@link BatchParser}). */
  readonly parse: BatchParser<LineEvent> = (input, opts) => this.run(input, opts);

  /** Stops every worker; documents still being parsed fail. */
  async close(): Promise<void> {
    this.closed = true;
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
  }

  private spawn(): PooledWorker {
    const worker = new Worker(WORKER_URL, {
      ...(WORKER_URL.pathname.endsWith('.ts') ? { execArgv: ['--import', 'tsx'] } : {}),
      resourceLimits: { maxOldGenerationSizeMb: PARSE_WORKER_HEAP_MB },
      name: 'isams-parse',
    });
    worker.unref();
    const pooled: PooledWorker = { worker, jobs: new Map(), gone: false };
    worker.on('message', (m: FromParseWorker) => this.receive(pooled, m));
    const lose = (error: Error): void => {
      if (pooled.gone) return;
      pooled.gone = true;
      if (!this.closed)
        this.logger?.error(
          { err: error, jobs: pooled.jobs.size },
          'a parse worker stopped; it is replaced when the next document comes',
        );
      for (const job of pooled.jobs.values()) settle(job, { error });
      pooled.jobs.clear();
      // Replaced when the next document comes (pick): a worker that cannot even start is not
      // restarted in a loop, and each document that needs it fails on its own.
    };
    worker.on('error', (err) => lose(new Error(`the document parse worker failed: ${err.message}`)));
    worker.on('exit', (code) => lose(new Error(`the document parse worker stopped (exit code ${code})`)));
    return pooled;
  }

  private receive(w: PooledWorker, m: FromParseWorker): void {
    const job = w.jobs.get(m.job);
    if (!job) return;
    switch (m.t) {
      case 'batch':
        job.batches.push(m.events);
        wake(job, 'reader');
        break;
      case 'taken':
        job.chunksAhead -= 1;
        wake(job, 'pump');
        break;
      case 'done':
        settle(job, {});
        break;
      case 'error':
        settle(job, { error: m.error.kind === 'input' ? { input: true } : fromWire(m.error) });
        break;
    }
  }

  private pick(): PooledWorker {
    if (this.closed) throw new Error('the document parse workers are closed');
    for (let i = 0; i < this.workers.length; i++) if (this.workers[i]!.gone) this.workers[i] = this.spawn();
    let best = this.workers[0]!;
    for (const w of this.workers) if (w.jobs.size < best.jobs.size) best = w;
    return best;
  }

  private async *run(
    input: AsyncIterable<Uint8Array>,
    opts: StreamBatchOptions,
  ): AsyncGenerator<readonly LineEvent[], void, undefined> {
    const w = this.pick();
    const id = this.nextJob++;
    const job: Job = {
      batches: [],
      end: undefined,
      wakeReader: undefined,
      chunksAhead: 0,
      wakePump: undefined,
      stopped: false,
      inputError: undefined,
    };
    w.jobs.set(id, job);
    post(w, { t: 'start', job: id, opts });
    void this.pump(w, id, job, input);
    try {
      for (;;) {
        const batch = job.batches.shift();
        if (batch) {
          post(w, { t: 'ack', job: id });
          yield batch;
          continue;
        }
        if (job.end) {
          const error = job.end.error;
          if (error === undefined) return;
          if ('input' in error || job.inputError) {
            // The worker saw the input fail: the input's own error is thrown, unchanged.
            throw job.inputError ? job.inputError.error : new Error('the document input failed');
          }
          throw error;
        }
        await new Promise<void>((resolve) => (job.wakeReader = resolve));
      }
    } finally {
      if (!job.end) post(w, { t: 'cancel', job: id });
      job.stopped = true;
      w.jobs.delete(id);
      wake(job, 'pump');
    }
  }

  /** Hands the input to the worker, at most {@link INPUT_CHUNKS_AHEAD} chunks ahead of the parse. */
  private async pump(w: PooledWorker, id: number, job: Job, input: AsyncIterable<Uint8Array>): Promise<void> {
    try {
      for await (const chunk of input) {
        if (job.stopped) return;
        // A copy the worker owns: a network chunk is often a view of a larger, shared buffer.
        const bytes = new Uint8Array(chunk);
        post(w, { t: 'data', job: id, bytes }, [bytes.buffer]);
        job.chunksAhead += 1;
        while (job.chunksAhead >= INPUT_CHUNKS_AHEAD && !job.stopped)
          await new Promise<void>((resolve) => (job.wakePump = resolve));
        if (job.stopped) return;
      }
      if (!job.stopped) post(w, { t: 'end', job: id });
    } catch (error) {
      if (job.stopped) return;
      job.inputError = { error };
      post(w, { t: 'fail', job: id });
    }
  }
}

function post(w: PooledWorker, message: ToParseWorker, transfer?: ArrayBuffer[]): void {
  if (!w.gone) w.worker.postMessage(message, transfer);
}

function settle(job: Job, end: NonNullable<Job['end']>): void {
  job.end ??= end;
  wake(job, 'reader');
}

function wake(job: Job, who: 'reader' | 'pump'): void {
  const resolve = who === 'reader' ? job.wakeReader : job.wakePump;
  if (who === 'reader') job.wakeReader = undefined;
  else job.wakePump = undefined;
  resolve?.();
}
