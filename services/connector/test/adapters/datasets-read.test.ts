/**
 * The fetch adapter tells each dataset as read when its container ends, so the run can publish it
 * while the rest of the document is read (use-cases/chunk-publishing). Over real HTTP and a real
 * spool directory; no Kafka or database needed.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToSpool } from '../../src/adapters/isams/batch-source';
import { RunSpool } from '../../src/adapters/spool/run-spool';
import type { RunDatasetStats } from '../../src/domain/sync-run';
import { linesOf } from '../support/spool-lines';
import { LOOPBACK_CLIENT, startOddIsamsHost, wholeDocument } from '../support/odd-isams-host';
import type { OddIsamsHost } from '../support/odd-isams-host';

const pupils = (from: number, to: number) =>
  Array.from({ length: to - from }, (_, i) => `<Pupil Id="${from + i}" Forename="P${from + i}"/>`).join('');
// Two methods emitting CurrentPupils (a DUPLICATE_CONTAINER finding): rows of both count.
const DOC = Buffer.from(
  '<?xml version="1.0"?>\n<iSAMS>' +
    `<PupilManager><CurrentPupils>${pupils(1, 41)}</CurrentPupils></PupilManager>` +
    '<HRManager><CurrentStaff><StaffMember Id="s1"/></CurrentStaff></HRManager>' +
    `<PupilManager><CurrentPupils>${pupils(41, 61)}</CurrentPupils></PupilManager>` +
    '</iSAMS>',
);

describe('connector fetch: each dataset as read, while the document is still being read', () => {
  let dir: string;
  let host: OddIsamsHost;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'datasets-read-'));
    host = await startOddIsamsHost(wholeDocument(DOC, 'content-length'));
  });
  afterAll(async () => {
    await host.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('tells each container as it ends, with the fingerprint and chunks of the records so far, readable from the spool then; the result is the last', async () => {
    const spool = new RunSpool(dir, 'run-read');
    await spool.reset();
    const reads: { dataset: RunDatasetStats; lines: Promise<string[][]> }[] = [];
    const readChunks = async (d: RunDatasetStats) => {
      const out: string[][] = [];
      for await (const c of spool.chunks(d.datasetId, d.chunkRecords, { prefix: true })) out.push(linesOf(c));
      return out;
    };
    try {
      const result = await fetchToSpool({
        source: { baseUrl: host.url, apiKey: '{A0A0A0A0-1111-4222-8333-444455556666}', format: 'xml' },
        client: LOOPBACK_CLIENT,
        spool,
        // Small chunks: a container's records span several.
        maxChunkRecordBytes: 1_000,
        // Read from the spool at once, as the publisher does while the parse goes on.
        onDatasetRead: (dataset) => {
          const lines = readChunks(dataset);
          lines.catch(() => undefined);
          reads.push({ dataset, lines });
        },
      });
      expect(reads.map((r) => [r.dataset.datasetId, r.dataset.recordCount])).toEqual([
        ['currentPupils', 40],
        ['currentStaff', 1],
        ['currentPupils', 60],
      ]);
      for (const { dataset, lines } of reads) {
        const chunks = await lines;
        const flat = chunks.flat();
        expect(chunks.map((c) => c.length)).toEqual(dataset.chunkRecords);
        expect(dataset.chunkCount).toBe(dataset.chunkRecords.length);
        expect(flat).toHaveLength(dataset.recordCount);
        expect(dataset.fingerprint).toBe(
          createHash('sha256')
            .update(flat.map((l) => `${l}\n`).join(''))
            .digest('hex'),
        );
      }
      expect(reads[0]!.dataset.chunkCount).toBeGreaterThan(1);
      // The first container's version is not the dataset's: the result's is the last one told.
      expect(reads[0]!.dataset.fingerprint).not.toBe(reads[2]!.dataset.fingerprint);
      const final = result.datasets.find((d) => d.datasetId === 'currentPupils');
      expect(final).toEqual(reads[2]!.dataset);
      expect(result.datasets.find((d) => d.datasetId === 'currentStaff')).toEqual(reads[1]!.dataset);
    } finally {
      await spool.remove();
    }
  });
});
