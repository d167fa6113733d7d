import { createHash } from 'node:crypto';
import { setImmediate as nextTurn } from 'node:timers/promises';

/** A whole response body's sha256 (hex) and size, known once its last byte arrived. */
export interface BodyDigest {
  sha256: string;
  bytes: number;
}

/** Hashing a document's body as it arrives, and reading it ahead of the parse. */
export interface BodyDigestOptions {
  /**
   * Hears the whole body's digest once its last byte is in (before the parse may have reached it):
   * once per response, so a request retried after an early end is heard again; the last one counts.
   */
  onBody: (body: BodyDigest) => void;
  /**
   * The sha256 of a body the caller has read before. The parse waits for the body while it fits
   * `readAheadBytes`; when it hashes the same, {@link fetchAndParse} ends with a `known-body` event
   * instead of parsing it: identical bytes read identically, so what the caller made of them holds.
   */
  knownSha256?: string;
  /**
   * How many bytes the download may run ahead of the parse, held in memory (default 0: one network
   * chunk). With a known body the parse waits for the body while it fits in this, so a body that
   * turns out known is not parsed at all; a larger one is parsed as it comes, this much behind.
   */
  readAheadBytes?: number;
}

/**
 * A body pulled from the network by its own loop, hashed chunk by chunk, and handed to the parse
 * from a queue of at most `readAheadBytes` (one chunk past it at the most), so the download is not
 * held to the parse's pace. Source errors reach the reader after the chunks read before them, as
 * they would have without the queue. {@link close} ends the pulling (also when it was never read).
 */
export class DigestedBody implements AsyncIterable<Uint8Array> {
  private readonly chunks: Uint8Array[] = [];
  private head = 0;
  private queuedBytes = 0;
  private ended = false;
  private failure: { error: unknown } | undefined;
  private closed = false;
  private wakeReader: (() => void) | undefined;
  private wakePump: (() => void) | undefined;
  /** How many bytes may wait in the queue (`readAheadBytes`). */
  private readonly limit: number;
  /** The whole body's digest, once its last byte arrived. */
  digest: BodyDigest | undefined;

  /**
   * `salt`: what else decides how the body reads (`charset=windows-1252\n`), hashed before it, so
   * the same bytes sent another way are not the known body; `bytes` counts the body alone.
   */
  constructor(
    source: AsyncIterable<Uint8Array>,
    private readonly options: BodyDigestOptions,
    salt?: string,
  ) {
    this.limit = Math.max(0, options.readAheadBytes ?? 0);
    void this.pump(source, salt);
  }

  private async pump(source: AsyncIterable<Uint8Array>, salt: string | undefined): Promise<void> {
    const hash = createHash('sha256');
    if (salt !== undefined) hash.update(salt);
    let bytes = 0;
    try {
      for await (const chunk of source) {
        if (this.closed) return;
        hash.update(chunk);
        bytes += chunk.byteLength;
        this.chunks.push(chunk);
        this.queuedBytes += chunk.byteLength;
        this.wake('reader');
        while (this.queuedBytes > this.limit && !this.closed)
          await new Promise<void>((r) => (this.wakePump = r));
        if (this.closed) return;
      }
      this.digest = { sha256: hash.digest('hex'), bytes };
      this.ended = true;
      this.options.onBody(this.digest);
    } catch (error) {
      this.failure = { error };
    } finally {
      this.wake('reader');
    }
  }

  /**
   * Waits while a reader would wait for the body (a known body that may still fit the read-ahead),
   * then says whether it is the known body. Call before reading it: a body that is known need not
   * be handed to a parse at all.
   */
  async known(): Promise<boolean> {
    while (
      this.options.knownSha256 !== undefined &&
      !this.ended &&
      !this.failure &&
      !this.closed &&
      this.queuedBytes <= this.limit
    )
      await new Promise<void>((r) => (this.wakeReader = r));
    return this.isKnown;
  }

  /** Whether the whole body arrived and hashes to the caller's known body. */
  get isKnown(): boolean {
    return this.digest !== undefined && this.digest.sha256 === this.options.knownSha256;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array> {
    try {
      for (;;) {
        // The parse of a chunk runs without a turn of the event loop in between (its awaits settle
        // as microtasks), so the network would wait for the parse: reading ahead, each chunk is
        // handed out a turn later, after the socket's bytes that arrived meanwhile were pulled in.
        if (this.limit > 0) await nextTurn();
        // With a known body, the parse waits for the whole body while the read-ahead has room: a
        // body that turns out known is then not parsed at all, another one is parsed from memory.
        const waitForBody =
          this.options.knownSha256 !== undefined &&
          !this.ended &&
          !this.failure &&
          this.queuedBytes <= this.limit;
        if (this.head < this.chunks.length && !waitForBody) {
          const chunk = this.chunks[this.head]!;
          this.chunks[this.head++] = EMPTY;
          if (this.head === this.chunks.length) {
            this.chunks.length = 0;
            this.head = 0;
          }
          this.queuedBytes -= chunk.byteLength;
          this.wake('pump');
          yield chunk;
          continue;
        }
        if (this.head === this.chunks.length && this.failure) throw this.failure.error;
        if (this.head === this.chunks.length && this.ended) return;
        await new Promise<void>((r) => (this.wakeReader = r));
      }
    } finally {
      this.close();
    }
  }

  /**
   * Stops pulling the body: the loop returns the source (closing the response) as soon as the read
   * it is waiting on settles. Never rejects: the loop keeps its own errors.
   */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.chunks.length = 0;
    this.head = 0;
    this.queuedBytes = 0;
    this.wake('pump');
  }

  private wake(who: 'reader' | 'pump'): void {
    const wake = who === 'reader' ? this.wakeReader : this.wakePump;
    if (who === 'reader') this.wakeReader = undefined;
    else this.wakePump = undefined;
    wake?.();
  }
}

const EMPTY = new Uint8Array(0);
