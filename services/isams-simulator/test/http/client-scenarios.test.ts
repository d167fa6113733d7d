import { beforeEach, describe, expect, it } from 'vitest';
import { fetchBatch, isIsamsError, parseBatchDocument } from '@isams-sync/isams';
import type { FetchBatchOptions, ParsedBatchDocument } from '@isams-sync/isams';
import { clientOptions, fetchParsed as fetchParsedFrom } from '../support/client';
import { KEY, useListeningSim } from '../support/sim-app';

// The real client from @isams-sync/isams against the simulator over real HTTP (port 0).
const sim = useListeningSim({ internalTimeoutMs: 300 });
beforeEach(async () => {
  await sim.admin('POST', '/admin/schools', { schoolId: 'a', seed: 11, size: 'small', apiKey: KEY });
});

const options = (over: Partial<FetchBatchOptions> = {}): FetchBatchOptions =>
  clientOptions(sim.baseUrl, over);
const fetchParsed = (over: Partial<FetchBatchOptions> = {}): Promise<ParsedBatchDocument> =>
  fetchParsedFrom(sim.baseUrl, over);

async function errorCode(over: Partial<FetchBatchOptions> = {}): Promise<string> {
  try {
    await fetchParsed(over);
  } catch (err) {
    if (isIsamsError(err)) return err.code;
    throw err;
  }
  return 'NO_ERROR';
}

const fault = async (kind: string, extra: Record<string, unknown> = {}, schoolId = 'a') =>
  expect((await sim.admin('POST', `/admin/schools/${schoolId}/faults`, { kind, ...extra })).status).toBe(201);

describe('scenarios', () => {
  it('accepts the key braced and bare', async () => {
    expect(
      (await fetchParsed({ apiKey: `{${KEY.toLowerCase()}}` })).datasets.currentPupils.records.length,
    ).toBe(300);
    expect((await fetchParsed({ format: 'json' })).datasets.currentPupils.records.length).toBe(300);
  });

  it('reports an unknown or inactive key as ISAMS_INVALID_KEY', async () => {
    expect(await errorCode({ apiKey: '99999999-2222-4333-8444-555555555555' })).toBe('ISAMS_INVALID_KEY');
    await sim.admin('PATCH', '/admin/schools/a/key', { active: false });
    expect(await errorCode()).toBe('ISAMS_INVALID_KEY');
  });

  it('reports MethodsToRun outside the key as ISAMS_METHODS_NOT_ALLOCATED naming the datasets', async () => {
    await sim.admin('DELETE', '/admin/schools/a/key/datasets/teachingSets');
    try {
      await fetchParsed({ methodsToRun: ['Teaching_GetTeachingSets', 'School_GetAllYears'] });
      expect.unreachable();
    } catch (err) {
      expect(isIsamsError(err) && err.code).toBe('ISAMS_METHODS_NOT_ALLOCATED');
      expect(isIsamsError(err) && err.details?.datasets).toEqual(['teachingSets']);
    }
    const some = await fetchParsed({ methodsToRun: ['School_GetAllYears'] });
    expect(some.datasets.yearGroups.present).toBe(true);
    expect(some.datasets.teachingSets.present).toBe(false);
  });

  it('shows a removed dataset as absent and an emptied one as present with no rows', async () => {
    await sim.admin('DELETE', '/admin/schools/a/key/datasets/contacts');
    await sim.admin('POST', '/admin/schools/a/datasets/teachingSets/empty');
    await sim.admin('POST', '/admin/schools/a/refresh');
    for (const format of ['xml', 'json'] as const) {
      const parsed = await fetchParsed({ format });
      expect(parsed.datasets.contacts.present).toBe(false);
      expect(parsed.datasets.teachingSets.present).toBe(true);
      expect(parsed.datasets.teachingSets.records).toHaveLength(0);
    }
  });

  it('reports an IP outside the allow-list as ISAMS_IP_NOT_ALLOWED', async () => {
    await sim.admin('PATCH', '/admin/schools/a/key', { allowedIps: ['203.0.113.0/24'] });
    expect(await errorCode()).toBe('ISAMS_IP_NOT_ALLOWED');
    await sim.admin('PATCH', '/admin/schools/a/key', { allowedIps: ['127.0.0.0/8'] });
    expect(await errorCode()).toBe('NO_ERROR');
  });

  it('reports throttling as ISAMS_THROTTLED', async () => {
    await sim.admin('PATCH', '/admin/schools/a/key', { throttle: { limit: 1, windowMs: 3_600_000 } });
    expect(await errorCode()).toBe('NO_ERROR');
    expect(await errorCode()).toBe('ISAMS_THROTTLED');
  });

  it('shows mutations only after the cache expires or is refreshed', async () => {
    const before = await fetchParsed();
    const added = await sim.admin('POST', '/admin/schools/a/pupils', { forename: 'Cachée' });
    const cached = await fetchParsed();
    expect(cached.datasets.currentPupils.records).toHaveLength(before.datasets.currentPupils.records.length);
    await sim.admin('POST', '/admin/schools/a/refresh');
    const fresh = await fetchParsed();
    expect(fresh.datasets.currentPupils.records.map((r) => r.attributes.Id)).toContain(String(added.json.id));
  });
});

const FAULT_CODES = [
  ['invalidKey', 'ISAMS_INVALID_KEY'],
  ['methodsNotAllocated', 'ISAMS_METHODS_NOT_ALLOCATED'],
  ['ipRefused', 'ISAMS_IP_NOT_ALLOWED'],
  ['throttled', 'ISAMS_THROTTLED'],
  ['deadlock', 'ISAMS_SERVER_BUSY'],
  ['lockTimeout', 'ISAMS_SERVER_BUSY'],
  ['timeout35s', 'ISAMS_TIMEOUT'],
  ['truncated', 'ISAMS_TRUNCATED_DOCUMENT'],
  ['malformed', 'ISAMS_MALFORMED_DOCUMENT'],
  // An RST mid-body reaches the client as ECONNRESET or as a plain early end of the stream (the
  // kernel may report the end before the reset): a cut document.
  ['connectionReset', ['ISAMS_CONNECTION_RESET', 'ISAMS_TRUNCATED_DOCUMENT']],
] as const;

describe('faults', () => {
  const cases = FAULT_CODES.flatMap(([kind, code]) =>
    (['xml', 'json'] as const).map((format) => ({
      kind,
      codes: typeof code === 'string' ? [code] : [...code],
      format,
    })),
  );
  for (const { kind, codes, format } of cases) {
    it(`${kind} → ${codes.join(' or ')} over ${format}, then clears`, async () => {
      await fault(kind);
      expect(codes).toContain(await errorCode({ format }));
      expect(await errorCode({ format })).toBe('NO_ERROR');
    });
  }

  it('slow responses succeed within the client read time-out and fail beyond it', async () => {
    await fault('slow', { delayMs: 300 });
    expect(await errorCode({ readTimeoutMs: 5_000 })).toBe('NO_ERROR');
    await fault('slow', { delayMs: 1_000 });
    expect(await errorCode({ readTimeoutMs: 200 })).toBe('ISAMS_TIMEOUT');
  });

  it('a transient deadlock is retried by the client and the run succeeds', async () => {
    await fault('deadlock', { times: 2 });
    const res = await fetchBatch(options({ retry: { maxAttempts: 3, baseDelayMs: 10, maxDelayMs: 20 } }));
    expect(res.attempts).toBe(3);
    const parsed = await parseBatchDocument(res.body, { format: 'xml' });
    expect(parsed.datasets.currentPupils.records).toHaveLength(300);
  });
});
