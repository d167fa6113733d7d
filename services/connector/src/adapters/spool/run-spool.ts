import { createReadStream } from 'node:fs';
import { mkdir, open, readdir, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { DatasetId } from '@isams-sync/isams';
import type { Spool, Spools } from '../../use-cases/ports';
import { SpoolQuota } from './spool-quota';

const FLUSH_BYTES = 256 * 1024;
/**
 * Bytes handed to the file system but not yet written, for the whole run: past this, `append` waits
 * for the writes (backpressure on the parser), so a slow disk bounds memory instead of growing it.
 */
const MAX_WRITE_BEHIND_BYTES = 4 * 1024 * 1024;

interface OpenDataset {
  handle: FileHandle;
  /** Lines not yet handed to the file system, in blocks each ending with `\n`. */
  pending: string[];
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
    return this.appendLines(datasetId, `${line}\n`, Buffer.byteLength(line) + 1);
  }

  async appendLines(datasetId: DatasetId, text: string, bytes: number): Promise<void> {
    this.throwIfFailed();
    if (this.quota) {
      this.quota.reserve(bytes);
      this.reserved.set(datasetId, (this.reserved.get(datasetId) ?? 0) + bytes);
    }
    let f = this.files.get(datasetId);
    if (!f) {
      f = await this.openDataset(datasetId);
      this.files.set(datasetId, f);
    }
    f.pending.push(text);
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
    const text = f.pending.join('');
    const bytes = f.pendingBytes;
    f.pending = [];
    f.pendingBytes = 0;
    this.writeBehindBytes += bytes;
    f.writing = f.writing
      .then(async () => {
        if (!this.failure) await f.handle.write(text);
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

  /**
   * The dataset's lines grouped by the planned chunk sizes; lines still buffered are written first.
   * With `prefix` the file may hold lines past the plan (its dataset is still being read).
   */
  async *chunks(
    datasetId: DatasetId,
    chunkRecords: readonly number[],
    opts: { prefix?: boolean } = {},
  ): AsyncGenerator<string[]> {
    const buffered = this.files.get(datasetId);
    if (buffered) await this.flush(buffered);
    this.throwIfFailed();
    let index = 0;
    let current: string[] = [];
    const skipEmpty = async function* (): AsyncGenerator<string[]> {
      while (index < chunkRecords.length && chunkRecords[index] === 0) {
        index += 1;
        yield [];
      }
    };
    yield* skipEmpty();
    if (index >= chunkRecords.length) return;
    const input = createReadStream(this.fileOf(datasetId), { encoding: 'utf8', highWaterMark: 256 * 1024 });
    try {
      for await (const line of createInterface({ input, crlfDelay: Infinity })) {
        if (line === '') continue;
        current.push(line);
        if (current.length === chunkRecords[index]) {
          yield current;
          current = [];
          index += 1;
          yield* skipEmpty();
          if (opts.prefix && index >= chunkRecords.length) break;
        }
      }
    } finally {
      // Closes the file when the reading stopped before its end (a prefix, a reader that gave up).
      input.destroy();
    }
    if (current.length > 0 || index < chunkRecords.length) {
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
