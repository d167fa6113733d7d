import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import type { DatasetId } from '@isams-sync/isams';
import type { Spool, Spools } from '../../use-cases/ports';
import { SpoolQuota } from './spool-quota';

const FLUSH_BYTES = 256 * 1024;
const NEWLINE = 0x0a;
/**
 * Bytes handed to the file system but not yet written, for the whole run: past this, `append` waits
 * for the writes (backpressure on the parser), so a slow disk bounds memory instead of growing it.
 */
const MAX_WRITE_BEHIND_BYTES = 4 * 1024 * 1024;
/**
 * Bytes per read of a spool file. Chunks are at most 512 KiB; a chunk inside one read is handed on
 * as a view of it, one that spans two reads is copied together, so reads of twice a chunk copy about
 * half the chunks instead of all of them (the large school's publish: 30 MB less copied and
 * allocated outside the heap, whose churn starts full garbage collections).
 */
const SPOOL_READ_BYTES = 1024 * 1024;

interface OpenDataset {
  handle: FileHandle;
  /** Lines not yet handed to the file system, in blocks each ending with `\n` (UTF-8). */
  pending: Uint8Array[];
  pendingBytes: number;
  /** The file's writes, in order: each flush is chained after the one before (never rejects). */
  writing: Promise<void>;
}

/** The directory of a run's spool under `spoolDir`. */
export function runSpoolDirName(syncRunId: string): string {
  return syncRunId.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * Removes every run directory under `spoolDir` except those of `keepRunIds`; returns how many it
 * removed (start-up clean-up after a crash).
 */
export async function removeSpoolsExcept(spoolDir: string, keepRunIds: readonly string[]): Promise<number> {
  const entries = await readdir(spoolDir, { withFileTypes: true }).catch(() => []);
  const keep = new Set(keepRunIds.map(runSpoolDirName));
  let removed = 0;
  for (const e of entries) {
    if (!e.isDirectory() || keep.has(e.name)) continue;
    await rm(join(spoolDir, e.name), { recursive: true, force: true }).catch(() => undefined);
    removed += 1;
  }
  return removed;
}

/**
 * A run's records on local disk while it is fetched: one NDJSON file per dataset (canonical JSON
 * per line) under `<spoolDir>/<syncRunId>/`. A dataset's lines may be read (`chunks`) while later
 * datasets — or a later container of the same one — are still being appended.
 * Writes happen behind the parser (write-behind): a full buffer is handed to the file system and
 * the parser goes on, so parsing and disk writes overlap; memory stays bounded by the buffers plus
 * {@link MAX_WRITE_BEHIND_BYTES} in flight, past which `append` waits. A failed write fails the
 * next `append` or the `close` (the run then fails before anything is published). With a {@link SpoolQuota}, every line is reserved
 * before it is written (`CONNECTOR_SPOOL_FULL` past the quota) and given back when its dataset is
 * discarded or the spool reset or removed.
 */
export class RunSpool implements Spool {
  readonly dir: string;
  private readonly files = new Map<DatasetId, OpenDataset>();
  /** Bytes reserved from the quota, per dataset. */
  private readonly reserved = new Map<DatasetId, number>();
  /** Bytes handed to the file system and not yet written. */
  private writeBehindBytes = 0;
  /** The first failed write (sticky until `reset`). */
  private failure: { error: unknown } | undefined;

  constructor(
    spoolDir: string,
    syncRunId: string,
    private readonly quota?: SpoolQuota,
  ) {
    this.dir = join(spoolDir, runSpoolDirName(syncRunId));
  }

  /** Bytes this run holds of the quota. */
  get reservedBytes(): number {
    let n = 0;
    for (const b of this.reserved.values()) n += b;
    return n;
  }

  private releaseAll(datasetIds: Iterable<DatasetId> = [...this.reserved.keys()]): void {
    for (const id of datasetIds) {
      this.quota?.release(this.reserved.get(id) ?? 0);
      this.reserved.delete(id);
    }
  }

  fileOf(datasetId: DatasetId): string {
    return join(this.dir, `${datasetId}.ndjson`);
  }

  async reset(): Promise<void> {
    await this.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
    this.releaseAll();
    this.failure = undefined;
    await mkdir(this.dir, { recursive: true });
  }

  /** Drops what was spooled for these datasets (a request that failed part-way through). */
  async discard(datasetIds: readonly DatasetId[]): Promise<void> {
    for (const id of datasetIds) {
      const f = this.files.get(id);
      this.files.delete(id);
      await f?.writing;
      await f?.handle.close().catch(() => undefined);
      await rm(this.fileOf(id), { force: true });
      this.releaseAll([id]);
    }
  }

  /** Appends one line (see {@link appendLines}). */
  append(datasetId: DatasetId, line: string): Promise<void> {
    return this.appendLines(datasetId, Buffer.from(`${line}\n`));
  }

  async appendLines(datasetId: DatasetId, lines: Uint8Array): Promise<void> {
    this.throwIfFailed();
    const bytes = lines.byteLength;
    if (this.quota) {
      this.quota.reserve(bytes);
      this.reserved.set(datasetId, (this.reserved.get(datasetId) ?? 0) + bytes);
    }
    let f = this.files.get(datasetId);
    if (!f) {
      f = await this.openDataset(datasetId);
      this.files.set(datasetId, f);
    }
    f.pending.push(lines);
    f.pendingBytes += bytes;
    if (f.pendingBytes >= FLUSH_BYTES) {
      const written = this.flush(f);
      if (this.writeBehindBytes > MAX_WRITE_BEHIND_BYTES) await written;
      this.throwIfFailed();
    }
  }

  private async openDataset(datasetId: DatasetId): Promise<OpenDataset> {
    return {
      handle: await open(this.fileOf(datasetId), 'a'),
      pending: [],
      pendingBytes: 0,
      writing: Promise.resolve(),
    };
  }

  /** Creates the (empty) file of a dataset that is present without records. */
  async touch(datasetId: DatasetId): Promise<void> {
    if (!this.files.has(datasetId)) this.files.set(datasetId, await this.openDataset(datasetId));
  }

  /**
   * Hands the buffered lines to the file system behind the file's earlier writes; resolves once
   * they are written (or failed: the failure is kept for the next `append` or `close`).
   */
  private flush(f: OpenDataset): Promise<void> {
    if (f.pending.length === 0) return f.writing;
    const buffers = f.pending;
    const bytes = f.pendingBytes;
    f.pending = [];
    f.pendingBytes = 0;
    this.writeBehindBytes += bytes;
    f.writing = f.writing
      .then(async () => {
        if (!this.failure) await writeAll(f.handle, buffers);
      })
      .catch((error: unknown) => {
        this.failure ??= { error };
      })
      .finally(() => {
        this.writeBehindBytes -= bytes;
      });
    return f.writing;
  }

  /**
   * Flushes, waits for every write and closes every file (call once the document ended); throws
   * the first failed write.
   */
  async close(): Promise<void> {
    for (const f of this.files.values()) {
      await this.flush(f);
      await f.handle.close();
    }
    this.files.clear();
    this.throwIfFailed();
  }

  private throwIfFailed(): void {
    if (this.failure) throw this.failure.error;
  }

  /** See {@link Spool.chunks}: read as bytes, cut at the plan's line counts, never decoded. */
  async *chunks(
    datasetId: DatasetId,
    chunkRecords: readonly number[],
    opts: { prefix?: boolean } = {},
  ): AsyncGenerator<Buffer> {
    const buffered = this.files.get(datasetId);
    if (buffered) await this.flush(buffered);
    this.throwIfFailed();
    let index = 0;
    const skipEmpty = function* (): Generator<Buffer> {
      while (index < chunkRecords.length && chunkRecords[index] === 0) {
        index += 1;
        yield Buffer.alloc(0);
      }
    };
    yield* skipEmpty();
    if (index >= chunkRecords.length) return;
    const input = createReadStream(this.fileOf(datasetId), { highWaterMark: SPOOL_READ_BYTES });
    /** The current chunk's bytes so far, and its lines among them. */
    let pieces: Buffer[] = [];
    let lines = 0;
    let extra = false;
    try {
      reading: for await (const data of input as AsyncIterable<Buffer>) {
        let start = 0;
        while (start < data.length) {
          if (index >= chunkRecords.length) {
            // Past the plan: the rest of the file is more than it planned.
            extra = true;
            break reading;
          }
          let at = start;
          while (lines < chunkRecords[index]!) {
            const newline = data.indexOf(NEWLINE, at);
            if (newline === -1) break;
            lines += 1;
            at = newline + 1;
          }
          if (lines < chunkRecords[index]!) {
            pieces.push(data.subarray(start));
            break;
          }
          pieces.push(data.subarray(start, at));
          yield pieces.length === 1 ? pieces[0]! : Buffer.concat(pieces);
          pieces = [];
          lines = 0;
          index += 1;
          start = at;
          yield* skipEmpty();
          if (opts.prefix && index >= chunkRecords.length) break reading;
        }
      }
    } finally {
      // Closes the file when the reading stopped before its end (a prefix, a reader that gave up).
      input.destroy();
    }
    const complete = index >= chunkRecords.length && pieces.length === 0;
    if (!complete || (extra && !opts.prefix)) {
      throw new Error(`spool of ${datasetId} does not match its chunk plan`);
    }
  }

  /** Drops the spool: lines not yet handed to the disk are discarded, writes in flight awaited. */
  async remove(): Promise<void> {
    try {
      for (const f of this.files.values()) {
        f.pending = [];
        f.pendingBytes = 0;
      }
      await this.close().catch(() => undefined);
      await rm(this.dir, { recursive: true, force: true });
    } finally {
      this.releaseAll();
    }
  }
}

/**
 * Writes every buffer, in order (`writev` may write fewer bytes than asked: the rest follows). A
 * write that takes no byte at all fails instead of being asked again forever. Exported for its test.
 */
export async function writeAll(
  handle: { writev(buffers: Uint8Array[]): Promise<{ bytesWritten: number }> },
  buffers: readonly Uint8Array[],
): Promise<void> {
  let rest = buffers.filter((b) => b.byteLength > 0);
  while (rest.length > 0) {
    let { bytesWritten } = await handle.writev(rest);
    if (bytesWritten <= 0) throw new Error('the spool file took no bytes of a write');
    const next: Uint8Array[] = [];
    for (const b of rest) {
      if (bytesWritten >= b.byteLength) bytesWritten -= b.byteLength;
      else {
        next.push(bytesWritten === 0 ? b : b.subarray(bytesWritten));
        bytesWritten = 0;
      }
    }
    rest = next;
  }
}

/**
 * The runs' spools under `spoolDir`, sharing one {@link SpoolQuota} of `quotaBytes` (unlimited when
 * unset) across every run of this process.
 */
export class FileSpools implements Spools {
  private readonly quota: SpoolQuota | undefined;

  constructor(
    private readonly spoolDir: string,
    quotaBytes?: number,
  ) {
    this.quota = quotaBytes === undefined ? undefined : new SpoolQuota(quotaBytes);
  }

  forRun(syncRunId: string): RunSpool {
    return new RunSpool(this.spoolDir, syncRunId, this.quota);
  }

  removeAllExcept(keepRunIds: readonly string[]): Promise<number> {
    return removeSpoolsExcept(this.spoolDir, keepRunIds);
  }
}
