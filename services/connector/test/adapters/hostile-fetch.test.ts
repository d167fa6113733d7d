/**
 * Hostile documents at the connector's fetch adapter, over real HTTP and a real spool directory
 * (no Kafka or database needed): the parser limits configured for the client apply, the spool
 * quota is enforced across runs, and a failed fetch leaves the quota and the disk as they were.
 * The whole run (nothing published, run record) is in test/int/hostile-documents.int.test.ts.
 */
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generatedSchoolDocument } from '@isams-sync/isams/test-support';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchToSpool } from '../../src/adapters/isams/batch-source';
import type { IsamsClientSettings } from '../../src/adapters/isams/batch-source';
import { RunSpool } from '../../src/adapters/spool/run-spool';
import { SpoolQuota } from '../../src/adapters/spool/spool-quota';
import { toRunError } from '../../src/use-cases/run-errors';
import { LOOPBACK_CLIENT, startOddIsamsHost, wholeDocument } from '../support/odd-isams-host';
import type { OddIsamsHost } from '../support/odd-isams-host';

const client: IsamsClientSettings = { ...LOOPBACK_CLIENT, parserLimits: { maxRecordsPerDataset: 100 } };
const xml = (rows: string) =>
  Buffer.from(
    `<?xml version="1.0"?>\n<iSAMS><PupilManager><CurrentPupils>${rows}</CurrentPupils></PupilManager></iSAMS>`,
  );

describe('connector fetch: hostile documents and the spool quota', () => {
  let dir: string;
  const hosts: OddIsamsHost[] = [];
  let school: Buffer;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'hostile-fetch-'));
    school = (await generatedSchoolDocument('xml', 3_000_000)).bytes;
  });
  afterAll(async () => {
    for (const h of hosts) await h.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function fetchFrom(doc: Buffer, runId: string, quota?: SpoolQuota, settings = client) {
    const host = await startOddIsamsHost(wholeDocument(doc, 'content-length'));
    hosts.push(host);
    const spool = new RunSpool(dir, runId, quota);
    await spool.reset();
    try {
      return await fetchToSpool({
        source: { baseUrl: host.url, apiKey: '{A0A0A0A0-1111-4222-8333-444455556666}', format: 'xml' },
        client: settings,
        spool,
        maxChunkRecordBytes: 500 * 1024,
      });
    } finally {
      await spool.remove();
    }
  }

  it('a depth bomb fails with ISAMS_DOCUMENT_TOO_DEEP (not transient), its spool removed', async () => {
    const bomb = xml(`<Pupil Id="1">${'<a>'.repeat(200_000)}${'</a>'.repeat(200_000)}</Pupil>`);
    const err = await fetchFrom(bomb, 'depth').catch((e: unknown) => e);
    expect(toRunError(err)).toMatchObject({ code: 'ISAMS_DOCUMENT_TOO_DEEP', transient: false });
    expect(await readdir(dir)).toEqual([]);
  });

  it("the client's parser limits apply: 101 pupils over maxRecordsPerDataset 100 → ISAMS_TOO_MANY_RECORDS", async () => {
    const rows = (n: number) => Array.from({ length: n }, (_, i) => `<Pupil Id="${i + 1}"/>`).join('');
    const err = await fetchFrom(xml(rows(101)), 'count').catch((e: unknown) => e);
    expect(toRunError(err)).toMatchObject({ code: 'ISAMS_TOO_MANY_RECORDS', transient: false });
    expect((err as Error).message).toContain('limit of 100 records in PupilManager/CurrentPupils');
    const ok = await fetchFrom(xml(rows(100)), 'count-ok');
    expect(ok.datasets.find((d) => d.datasetId === 'currentPupils')?.recordCount).toBe(100);
  });

  it('a school over the quota → CONNECTOR_SPOOL_FULL (transient), quota given back, no file left', async () => {
    const quota = new SpoolQuota(1024 * 1024);
    const err = await fetchFrom(school, 'big', quota, { ...client, parserLimits: {} }).catch(
      (e: unknown) => e,
    );
    expect(toRunError(err)).toMatchObject({ code: 'CONNECTOR_SPOOL_FULL', transient: true });
    expect(quota.used).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });

  it('runs share the quota: the same school fits alone, not beside a run holding most of the quota', async () => {
    const quota = new SpoolQuota(8 * 1024 * 1024);
    const alone = await fetchFrom(school, 'alone', quota, { ...client, parserLimits: {} });
    const spooled = alone.datasets.reduce((n, d) => n + d.bytes + d.recordCount, 0);
    expect(spooled).toBeGreaterThan(1024 * 1024);
    expect(quota.used).toBe(0);
    const other = new RunSpool(dir, 'other', quota);
    await other.reset();
    await other.append('contacts', 'x'.repeat(quota.limitBytes - spooled / 2));
    const err = await fetchFrom(school, 'beside', quota, { ...client, parserLimits: {} }).catch(
      (e: unknown) => e,
    );
    expect(toRunError(err).code).toBe('CONNECTOR_SPOOL_FULL');
    await other.remove();
    expect(quota.used).toBe(0);
    expect(await readdir(dir)).toEqual([]);
  });
});
