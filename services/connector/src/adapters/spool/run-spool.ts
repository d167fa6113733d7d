import { createReadStream } from 'node:fs';
import { mkdir, open, rm } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import type { DatasetId } from '@isams-sync/isams';

const FLUSH_BYTES = 256 * 1024;

interface OpenDataset {
  handle: FileHandle;
  pending: string[];
  pendingBytes: number;
}

/**
 * A run's records on local disk while it is fetched: one NDJSON file per dataset (canonical JSON
 * per line) under `<spoolDir>/<syncRunId>/`. Nothing is published until the whole document parsed,
 * and memory stays bounded by the write buffer.
 */
export class RunSpool {
  readonly dir: string;
  private readonly files = new Map<DatasetId, OpenDataset>();

  constructor(spoolDir: string, syncRunId: string) {
    this.dir = join(spoolDir, syncRunId.replace(/[^A-Za-z0-9_-]/g, '_'));
  }

  fileOf(datasetId: DatasetId): string {
    return join(this.dir, `${datasetId}.ndjson`);
  }

  async reset(): Promise<void> {
    await this.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
    await mkdir(this.dir, { recursive: true });
  }

  /** Drops what was spooled for these datasets (a request that failed part-way through). */
  async discard(datasetIds: readonly DatasetId[]): Promise<void> {
    for (const id of datasetIds) {
      const f = this.files.get(id);
      this.files.delete(id);
      await f?.handle.close().catch(() => undefined);
      await rm(this.fileOf(id), { force: true });
    }
  }

  async append(datasetId: DatasetId, line: string): Promise<void> {
    let f = this.files.get(datasetId);
    if (!f) {
      f = { handle: await open(this.fileOf(datasetId), 'a'), pending: [], pendingBytes: 0 };
      this.files.set(datasetId, f);
    }
    f.pending.push(line);
    f.pendingBytes += line.length + 1;
    if (f.pendingBytes >= FLUSH_BYTES) await this.flush(f);
  }

  /** Creates the (empty) file of a dataset that is present without records. */
  async touch(datasetId: DatasetId): Promise<void> {
    if (!this.files.has(datasetId)) {
      this.files.set(datasetId, {
        handle: await open(this.fileOf(datasetId), 'a'),
        pending: [],
        pendingBytes: 0,
      });
    }
  }

  private async flush(f: OpenDataset): Promise<void> {
    if (f.pending.length === 0) return;
    const text = `${f.pending.join('\n')}\n`;
    f.pending = [];
    f.pendingBytes = 0;
    await f.handle.write(text);
  }

  /** Flushes and closes every file (call once the document ended). */
  async close(): Promise<void> {
    for (const f of this.files.values()) {
      await this.flush(f);
      await f.handle.close();
    }
    this.files.clear();
  }

  /** The dataset's lines grouped by the planned chunk sizes. */
  async *chunks(datasetId: DatasetId, chunkRecords: readonly number[]): AsyncGenerator<string[]> {
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
    const lines = createInterface({
      input: createReadStream(this.fileOf(datasetId), { encoding: 'utf8', highWaterMark: 256 * 1024 }),
      crlfDelay: Infinity,
    });
    for await (const line of lines) {
      if (line === '') continue;
      current.push(line);
      if (current.length === chunkRecords[index]) {
        yield current;
        current = [];
        index += 1;
        yield* skipEmpty();
      }
    }
    if (current.length > 0 || index < chunkRecords.length) {
      throw new Error(`spool of ${datasetId} does not match its chunk plan`);
    }
  }

  async remove(): Promise<void> {
    await this.close().catch(() => undefined);
    await rm(this.dir, { recursive: true, force: true });
  }
}
