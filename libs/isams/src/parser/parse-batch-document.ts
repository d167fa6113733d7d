import { DATASET_IDS } from '../datasets';
import type { DatasetId } from '../datasets';
import type { RawElement } from '../raw-element';
import { toTyped } from '../typed/to-typed';
import type { Finding, StreamBatchOptions } from './parse-events';
import { streamBatchDocument } from './stream-batch-document';

/** One dataset of a fully collected document. */
export interface CollectedDataset {
  present: boolean;
  records: RawElement[];
  /** Structural findings plus the typed-view findings of this dataset's records. */
  findings: Finding[];
}

/** The result of {@link parseBatchDocument}. */
export interface ParsedBatchDocument {
  datasets: Record<DatasetId, CollectedDataset>;
  /** Document-level findings (not tied to a dataset). */
  findings: Finding[];
  unknownContainers: string[];
  bytes: number;
}

/**
 * Collects a whole document in memory — for tests and small documents only; production code
 * consumes {@link streamBatchDocument}. Each record is also run through {@link toTyped} so its
 * problems appear in the dataset's findings.
 */
export async function parseBatchDocument(
  input: AsyncIterable<Uint8Array | string> | string | Uint8Array,
  opts: StreamBatchOptions,
): Promise<ParsedBatchDocument> {
  const datasets = Object.fromEntries(
    DATASET_IDS.map((id): [DatasetId, CollectedDataset] => [
      id,
      { present: false, records: [], findings: [] },
    ]),
  ) as Record<DatasetId, CollectedDataset>;
  const findings: Finding[] = [];
  const source = typeof input === 'string' || input instanceof Uint8Array ? once(input) : input;
  for await (const event of streamBatchDocument(source, opts)) {
    switch (event.type) {
      case 'dataset':
        datasets[event.datasetId].present = true;
        break;
      case 'record': {
        datasets[event.datasetId].records.push(event.raw);
        const typed = toTyped(event.datasetId, event.raw);
        if (typed.ok) datasets[event.datasetId].findings.push(...typed.findings);
        else datasets[event.datasetId].findings.push(typed.finding);
        break;
      }
      case 'finding':
        if (event.finding.datasetId === undefined) findings.push(event.finding);
        else datasets[event.finding.datasetId].findings.push(event.finding);
        break;
      case 'end':
        return { datasets, findings, unknownContainers: event.unknownContainers, bytes: event.bytes };
      default:
        break;
    }
  }
  // streamBatchDocument either yields `end` or throws; reaching here would be a bug.
  throw new Error('parseBatchDocument: stream ended without an end event');
}

async function* once<T>(value: T): AsyncGenerator<T> {
  yield value;
}
