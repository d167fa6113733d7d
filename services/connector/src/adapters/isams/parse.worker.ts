/**
 * A document parse worker of the connector ({@link ParseWorkerPool}): runs {@link parseIntoLines}
 * over the input chunks the connector's thread sends, one job per document, and posts the batches
 * back. Loaded as its own module (the bundle emits it beside `main.js`).
 */
import { parentPort } from 'node:worker_threads';
import type { MessagePort } from 'node:worker_threads';
import { isIsamsError } from '@isams-sync/isams';
import type { StreamBatchOptions } from '@isams-sync/isams';
import { parseIntoLines } from './line-events';
import { BATCHES_AHEAD } from './parse-workers';
import type { FromParseWorker, ToParseWorker, WireError } from './parse-workers';

/** Thrown into a job's parse when its input failed (the connector's thread holds the error). */
class InputFailed extends Error {}
/** Thrown into a job's parse when the connector gave up on it. */
class Cancelled extends Error {}

/** One document's input chunks as they come, and its state. */
class JobInput implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private ended: 'end' | 'fail' | 'cancel' | undefined;
  private wakeParse: (() => void) | undefined;
  private wakeAck: (() => void) | undefined;
  /** Batches posted and not yet taken by the connector's thread. */
  unacked = 0;

  constructor(
    private readonly port: MessagePort,
    private readonly id: number,
  ) {}

  get cancelled(): boolean {
    return this.ended === 'cancel';
  }

  push(bytes: Uint8Array): void {
    this.chunks.push(bytes);
    this.wake();
  }

  finish(how: 'end' | 'fail' | 'cancel'): void {
    if (this.ended !== 'cancel') this.ended = how;
    this.wake();
    if (how === 'cancel') this.wakeCredit();
  }

  ack(): void {
    this.unacked -= 1;
    this.wakeCredit();
  }

  private wakeCredit(): void {
    const wake = this.wakeAck;
    this.wakeAck = undefined;
    wake?.();
  }

  /** Waits while the connector's thread has {@link BATCHES_AHEAD} batches it has not taken. */
  async credit(): Promise<void> {
    while (this.unacked >= BATCHES_AHEAD && !this.cancelled)
      await new Promise<void>((r) => (this.wakeAck = r));
  }

  private wake(): void {
    const wake = this.wakeParse;
    this.wakeParse = undefined;
    wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    for (;;) {
      if (this.cancelled) throw new Cancelled();
      const chunk = this.chunks.shift();
      if (chunk) {
        post(this.port, { t: 'taken', job: this.id });
        yield chunk;
        continue;
      }
      if (this.ended === 'end') return;
      if (this.ended === 'fail') throw new InputFailed();
      await new Promise<void>((r) => (this.wakeParse = r));
    }
  }
}

function toWire(err: unknown): WireError {
  if (err instanceof InputFailed) return { kind: 'input' };
  if (isIsamsError(err)) {
    return {
      kind: 'isams',
      code: err.code,
      message: err.message,
      ...(err.details ? { details: err.details } : {}),
      transient: err.transient,
      adminAction: err.adminAction,
    };
  }
  const e = err instanceof Error ? err : new Error(String(err));
  return { kind: 'other', name: e.name, message: e.message, ...(e.stack ? { stack: e.stack } : {}) };
}

/** The buffers of a batch's records, handed over rather than copied. */
function transferOf(message: FromParseWorker): ArrayBuffer[] {
  if (message.t !== 'batch') return [];
  const buffers: ArrayBuffer[] = [];
  for (const ev of message.events) if (ev.type === 'records') buffers.push(ev.lines.buffer as ArrayBuffer);
  return buffers;
}

/** Every message is plain data (an `IsamsError`'s details too: the parser's are ids, names and limits). */
function post(port: MessagePort, message: FromParseWorker): void {
  port.postMessage(message, transferOf(message));
}

async function run(port: MessagePort, id: number, input: JobInput, opts: StreamBatchOptions): Promise<void> {
  try {
    for await (const events of parseIntoLines(input, opts)) {
      if (input.cancelled) return;
      input.unacked += 1;
      post(port, { t: 'batch', job: id, events });
      await input.credit();
      if (input.cancelled) return;
    }
    post(port, { t: 'done', job: id });
  } catch (err) {
    if (!input.cancelled) post(port, { t: 'error', job: id, error: toWire(err) });
  }
}

function serve(port: MessagePort): void {
  const jobs = new Map<number, JobInput>();
  port.on('message', (m: ToParseWorker) => {
    if (m.t === 'start') {
      const input = new JobInput(port, m.job);
      jobs.set(m.job, input);
      void run(port, m.job, input, m.opts).finally(() => jobs.delete(m.job));
      return;
    }
    const input = jobs.get(m.job);
    if (!input) return;
    if (m.t === 'data') input.push(m.bytes);
    else if (m.t === 'ack') input.ack();
    else input.finish(m.t);
  });
}

if (parentPort) serve(parentPort);
