import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { datasetSnapshotCompletedV1, rawDatasetChunkV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import { DATASET_IDS, parseBatchDocument } from '@isams-sync/isams';
import type { DatasetId, RawElement } from '@isams-sync/isams';
import type { EventProducer } from '@isams-sync/kafka';

const repoRoot = resolve(import.meta.dirname, '../../../..');
export type Datasets = Partial<Record<DatasetId, RawElement[]>>;

/** A school document from the simulator's generator CLI (a child process; cached per seed and size). */
export async function generatedSchool(seed: number, size: 'small' | 'medium' | 'large'): Promise<Datasets> {
  const file = join(tmpdir(), `roster-test-school-${seed}-${size}.xml`);
  if (!existsSync(file)) {
    await promisify(execFile)(
      'npx',
      [
        'tsx',
        'services/isams-simulator/src/cli/generate-school.ts',
        '--seed',
        String(seed),
        '--size',
        size,
        '--out',
        `${file}.tmp`,
      ],
      {
        cwd: repoRoot,
      },
    );
    await promisify(execFile)('mv', [`${file}.tmp`, file]);
  }
  const parsed = await parseBatchDocument(readFileSync(file), { format: 'xml' });
  const out: Datasets = {};
  for (const d of DATASET_IDS) if (parsed.datasets[d].present) out[d] = parsed.datasets[d].records;
  return out;
}

const sha = (v: unknown): string => createHash('sha256').update(JSON.stringify(v)).digest('hex');

/** The chunk events and run-complete marker the connector would publish for `datasets`. */
export function snapshotEvents(
  tenantId: string,
  syncRunId: string,
  datasets: Datasets,
  opts: {
    dryRun?: boolean;
    fetchedAt?: string;
    /** The run's place in the school's fetch order (the marker's `fetchSequence`); absent: none. */
    fetchSequence?: number;
    chunkSize?: number;
    trigger?: { kind: 'schedule' | 'manual'; actor?: string };
  } = {},
): { chunks: CloudEvent[]; marker: CloudEvent } {
  const chunkSize = opts.chunkSize ?? 400;
  const chunks: CloudEvent[] = [];
  const listed = [];
  for (const datasetId of DATASET_IDS) {
    const records = datasets[datasetId];
    if (records === undefined) continue;
    const fingerprint = sha(records);
    const chunkCount = Math.max(1, Math.ceil(records.length / chunkSize));
    for (let i = 0; i < chunkCount; i += 1) {
      chunks.push(
        rawDatasetChunkV1.create({
          tenantId,
          idParts: [syncRunId, datasetId, String(i)],
          syncRunId,
          data: {
            syncRunId,
            datasetId,
            chunkIndex: i,
            chunkCount,
            firstRecordOrdinal: i * chunkSize,
            datasetFingerprint: fingerprint,
            records: records.slice(i * chunkSize, (i + 1) * chunkSize),
          },
        }),
      );
    }
    listed.push({ datasetId, chunkCount, recordCount: records.length, fingerprint, bytes: 0 });
  }
  const marker = datasetSnapshotCompletedV1.create({
    tenantId,
    idParts: [syncRunId],
    syncRunId,
    data: {
      syncRunId,
      trigger: opts.trigger ?? { kind: 'manual', actor: 'admin:test' },
      dryRun: opts.dryRun ?? false,
      fetchedAt: opts.fetchedAt ?? '2026-11-01T09:00:00Z',
      ...(opts.fetchSequence === undefined ? {} : { fetchSequence: opts.fetchSequence }),
      sourceFormat: 'xml',
      datasets: listed,
      absentDatasets: DATASET_IDS.filter((d) => datasets[d] === undefined),
      unknownContainers: [],
      findings: [],
    },
  });
  return { chunks, marker };
}

export async function publishSnapshot(
  producer: EventProducer,
  topic: string,
  tenantId: string,
  syncRunId: string,
  datasets: Datasets,
  opts: Parameters<typeof snapshotEvents>[3] = {},
): Promise<void> {
  const { chunks, marker } = snapshotEvents(tenantId, syncRunId, datasets, opts);
  // A few chunks per request: a large school's chunks together exceed the broker's request limit.
  for (let i = 0; i < chunks.length; i += 4) await producer.publish(topic, chunks.slice(i, i + 4));
  await producer.publish(topic, [marker]);
}

/** A copy of a raw record with one child element's text replaced (or added). */
export function withText(el: RawElement, name: string, value: string): RawElement {
  const has = el.children.some((c) => c.name === name);
  const children = has
    ? el.children.map((c) => (c.name === name ? { ...c, text: value } : c))
    : [...el.children, { name, attributes: {}, text: value, children: [] }];
  return { ...el, children };
}

export const idOf = (el: RawElement): string => el.attributes.Id!;
