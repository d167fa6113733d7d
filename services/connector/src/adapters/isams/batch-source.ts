import { createHash } from 'node:crypto';
import type { Hash } from 'node:crypto';
import { fetchAndParse } from '@isams-sync/isams';
import type { BatchParseEvent, DatasetId, FetchBatchOptions } from '@isams-sync/isams';
import type { Logger } from '@isams-sync/logger';
import { canonicalRawJson } from '../../domain/canonical-json';
import { ChunkPlanner } from '../../domain/chunk-plan';
import type { SourceFormat } from '../../domain/settings-rules';
import type { RunDatasetStats } from '../../domain/sync-run';
import type { RunFinding } from '../mongo/runs-repository';
import type { RunSpool } from '../spool/run-spool';

/** Where and how to reach one school's iSAMS. */
export interface IsamsSource {
  baseUrl: string;
  apiKey: string;
  format: SourceFormat;
}

/** Connection settings shared by every school (from configuration). */
export type IsamsClientSettings = Omit<
  FetchBatchOptions,
  'baseUrl' | 'apiKey' | 'format' | 'signal' | 'logger' | 'onProgress' | 'methodsToRun'
>;

export interface FetchProgress {
  datasetsDone: number;
  recordsFetched: number;
  bytesFetched: number;
}

export interface FetchResult {
  datasets: RunDatasetStats[];
  absent: DatasetId[];
  unknownContainers: string[];
  findings: RunFinding[];
  bytes: number;
}

const MAX_FINDINGS = 1000;

interface DatasetAcc {
  hash: Hash;
  records: number;
  bytes: number;
  planner: ChunkPlanner;
}

/**
 * Fetches and stream-parses the school's document. With a spool, every record is written to it as
 * canonical JSON while its dataset's sha256 fingerprint, byte count and chunk plan are computed;
 * without one (test connection) records are only counted. Throws the client's `IsamsError` for any
 * failure, including a document that ends early: the caller then discards the spool.
 */
export async function fetchToSpool(options: {
  source: IsamsSource;
  client: IsamsClientSettings;
  spool?: RunSpool;
  maxChunkRecordBytes: number;
  signal?: AbortSignal;
  logger?: Logger;
  onProgress?: (p: FetchProgress) => void;
}): Promise<FetchResult> {
  const acc = new Map<DatasetId, DatasetAcc>();
  const findings: RunFinding[] = [];
  let datasetsDone = 0;
  let recordsFetched = 0;
  let bytesFetched = 0;
  const { spool } = options;
  const events: AsyncGenerator<BatchParseEvent> = fetchAndParse({
    ...options.client,
    baseUrl: options.source.baseUrl,
    apiKey: options.source.apiKey,
    format: options.source.format,
    ...(options.signal ? { signal: options.signal } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    onProgress: (bytes) => {
      bytesFetched = bytes;
    },
  });
  for await (const ev of events) {
    switch (ev.type) {
      case 'dataset':
        if (!acc.has(ev.datasetId)) {
          acc.set(ev.datasetId, {
            hash: createHash('sha256'),
            records: 0,
            bytes: 0,
            planner: new ChunkPlanner(options.maxChunkRecordBytes),
          });
          await spool?.touch(ev.datasetId);
        }
        break;
      case 'record': {
        const a = acc.get(ev.datasetId)!;
        const line = canonicalRawJson(ev.raw);
        const size = Buffer.byteLength(line);
        a.hash.update(line);
        a.hash.update('\n');
        a.records += 1;
        a.bytes += size;
        a.planner.add(size);
        recordsFetched += 1;
        if (spool) await spool.append(ev.datasetId, line);
        if ((recordsFetched & 1023) === 0)
          options.onProgress?.({ datasetsDone, recordsFetched, bytesFetched });
        break;
      }
      case 'dataset-end':
        datasetsDone += 1;
        options.onProgress?.({ datasetsDone, recordsFetched, bytesFetched });
        break;
      case 'finding':
        if (ev.finding.datasetId && findings.length < MAX_FINDINGS) {
          const f = ev.finding;
          findings.push({
            code: f.code,
            datasetId: f.datasetId!,
            ...(f.recordId !== undefined ? { recordId: f.recordId } : {}),
            ...(f.path !== undefined ? { path: f.path } : {}),
            message: f.message,
          });
        }
        break;
      case 'end': {
        await spool?.close();
        const datasets: RunDatasetStats[] = [...acc.entries()].map(([datasetId, a]) => {
          const chunkRecords = a.planner.finish();
          return {
            datasetId,
            present: true,
            recordCount: a.records,
            bytes: a.bytes,
            chunkCount: chunkRecords.length,
            chunkRecords,
            fingerprint: a.hash.digest('hex'),
          };
        });
        options.onProgress?.({ datasetsDone: datasets.length, recordsFetched, bytesFetched: ev.bytes });
        return {
          datasets,
          absent: ev.absent,
          unknownContainers: ev.unknownContainers,
          findings,
          bytes: ev.bytes,
        };
      }
    }
  }
  // streamBatchDocument always ends with `end` or throws; reaching here means the stream was cut.
  throw new Error('iSAMS document stream ended without an end event');
}
