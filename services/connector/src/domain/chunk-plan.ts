/**
 * Plans a dataset's chunks while its records stream past: records are added in order and a chunk is
 * closed when the next record would push its serialized size over `maxRecordBytes` (the message
 * budget minus the envelope overhead). A single record larger than the budget gets a chunk alone.
 */
export class ChunkPlanner {
  /** Records per chunk, in order. */
  readonly chunks: number[] = [];
  private currentRecords = 0;
  private currentBytes = 0;

  constructor(private readonly maxRecordBytes: number) {}

  /** `bytes`: the record's serialized size (its canonical JSON line). */
  add(bytes: number): void {
    const extra = bytes + 1; // the comma in the records array
    if (this.currentRecords > 0 && this.currentBytes + extra > this.maxRecordBytes) this.close();
    this.currentRecords += 1;
    this.currentBytes += extra;
  }

  /**
   * The plan of the records added so far, as {@link finish} would give it now; the planner goes on
   * (a dataset published while its document is still being read may get more records).
   */
  planSoFar(): number[] {
    return this.currentRecords > 0 || this.chunks.length === 0
      ? [...this.chunks, this.currentRecords]
      : [...this.chunks];
  }

  /** The final plan: at least one chunk, so an empty dataset is still published (as zero records). */
  finish(): number[] {
    if (this.currentRecords > 0 || this.chunks.length === 0) this.close();
    return this.chunks;
  }

  private close(): void {
    this.chunks.push(this.currentRecords);
    this.currentRecords = 0;
    this.currentBytes = 0;
  }
}

/** Space a chunk event needs besides its records (CloudEvents headers, ids, fingerprint, key). */
export const CHUNK_ENVELOPE_OVERHEAD_BYTES = 2048;
