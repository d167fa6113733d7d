import { streamBatchDocumentBatches } from '@isams-sync/isams';
import type { BatchParseEvent, BatchParser, DatasetId } from '@isams-sync/isams';
import { CanonicalLines } from '../../domain/canonical-json';

/**
 * Records of one dataset in document order, read into what the spool and the fingerprint take:
 * their canonical JSON lines.
 */
export interface RecordLines {
  type: 'records';
  datasetId: DatasetId;
  /**
   * The records' canonical JSON, one line each, every line ending with `\n`, in UTF-8 — as the
   * spool stores them and the fingerprint hashes them (a buffer of its own: a worker hands it over).
   */
  lines: Uint8Array;
  /** Each line's UTF-8 size without its `\n`, in order. */
  sizes: number[];
}

/** A parse event as the connector keeps it: a run of records as {@link RecordLines}. */
export type LineEvent = Exclude<BatchParseEvent, { type: 'record' }> | RecordLines;

/** One per thread: {@link toLineEvents} runs to its end without yielding. */
const writer = new CanonicalLines();

/**
 * A batch of parse events with each run of consecutive records of one dataset turned into one
 * {@link RecordLines}; every other event as it is, in the same order.
 */
export function toLineEvents(batch: readonly BatchParseEvent[]): LineEvent[] {
  const out: LineEvent[] = [];
  writer.clear();
  let sizes: number[] = [];
  let datasetId: DatasetId | undefined;
  const flush = (): void => {
    if (datasetId === undefined) return;
    out.push({ type: 'records', datasetId, lines: writer.take(), sizes });
    sizes = [];
    datasetId = undefined;
  };
  for (const ev of batch) {
    if (ev.type !== 'record') {
      flush();
      out.push(ev);
      continue;
    }
    if (ev.datasetId !== datasetId) {
      flush();
      datasetId = ev.datasetId;
    }
    sizes.push(writer.line(ev.raw));
  }
  flush();
  return out;
}

/** The document parsed on this thread, its records read into lines ({@link toLineEvents}). */
export const parseIntoLines: BatchParser<LineEvent> = async function* (input, opts) {
  for await (const batch of streamBatchDocumentBatches(input, opts)) yield toLineEvents(batch);
};
