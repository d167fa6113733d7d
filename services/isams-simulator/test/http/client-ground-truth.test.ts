import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { FetchBatchOptions, ParsedBatchDocument } from '@isams-sync/isams';
import { DATASET_IDS } from '../../src/domain/isams-lib';
import type { DatasetId, RawElement } from '../../src/domain/isams-lib';
import { canonical } from '../support/raw-compare';
import { fetchParsed as fetchParsedFrom } from '../support/client';
import { useListeningSim } from '../support/sim-app';

// The real client from @isams-sync/isams against the simulator over real HTTP (port 0).
const sim = useListeningSim({ internalTimeoutMs: 300 });

const fetchParsed = (over: Partial<FetchBatchOptions> = {}): Promise<ParsedBatchDocument> =>
  fetchParsedFrom(sim.baseUrl, over);

async function groundTruth(schoolId: string): Promise<Record<DatasetId, RawElement[]>> {
  return (await sim.admin('GET', `/admin/schools/${schoolId}/ground-truth`)).json.datasets;
}

function expectEqualToTruth(
  parsed: ParsedBatchDocument,
  truth: Record<DatasetId, RawElement[]>,
  format: 'xml' | 'json',
): void {
  for (const d of DATASET_IDS) {
    expect(parsed.datasets[d].present, d).toBe(true);
    const got = parsed.datasets[d].records;
    expect(got.length, d).toBe(truth[d].length);
    // Json.NET groups repeated siblings, so JSON keeps the order within a name only.
    const same =
      format === 'xml'
        ? isDeepStrictEqual(got, truth[d])
        : isDeepStrictEqual(got.map(canonical), truth[d].map(canonical));
    if (!same)
      expect(
        got.find(
          (r, i) =>
            !isDeepStrictEqual(
              format === 'xml' ? r : canonical(r),
              format === 'xml' ? truth[d][i] : canonical(truth[d][i] as RawElement),
            ),
        ),
        d,
      ).toBeUndefined();
    expect(same, d).toBe(true);
  }
}

describe('ground truth: parsed rows equal the simulator model', () => {
  it.each([
    ['small', 'xml'],
    ['small', 'json'],
    ['medium', 'xml'],
    ['medium', 'json'],
  ] as const)('%s school over %s', async (size, format) => {
    const key = '{11111111-2222-4333-8444-555555555555}';
    await sim.admin('POST', '/admin/schools', { schoolId: 'g', seed: 21, size, apiKey: key });
    const parsed = await fetchParsed({ apiKey: key, format });
    expectEqualToTruth(parsed, await groundTruth('g'), format);
  });

  it('large school over XML and JSON', async () => {
    const key = '22222222-2222-4333-8444-555555555555';
    await sim.admin('POST', '/admin/schools', { schoolId: 'big', seed: 42, size: 'large', apiKey: key });
    const truth = await groundTruth('big');
    expect(truth.teachingSetLists).toHaveLength(30_000);
    for (const format of ['xml', 'json'] as const)
      expectEqualToTruth(await fetchParsed({ apiKey: key, format }), truth, format);
  });
});
