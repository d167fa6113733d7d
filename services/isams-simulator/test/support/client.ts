import { fetchBatch, parseBatchDocument } from '@isams-sync/isams';
import type { FetchBatchOptions, ParsedBatchDocument } from '@isams-sync/isams';
import { KEY } from './sim-app';

/** Client options for the simulator under test: short time-outs, no retries unless asked. */
export function clientOptions(baseUrl: string, over: Partial<FetchBatchOptions> = {}): FetchBatchOptions {
  return {
    baseUrl,
    apiKey: KEY,
    format: 'xml',
    connectTimeoutMs: 2_000,
    readTimeoutMs: 5_000,
    totalTimeoutMs: 30_000,
    maxBytes: 200 * 1024 * 1024,
    retry: { maxAttempts: 1, baseDelayMs: 10, maxDelayMs: 50 },
    ...over,
  };
}

/** Fetches over real HTTP with the real client and parses the whole document. */
export async function fetchParsed(
  baseUrl: string,
  over: Partial<FetchBatchOptions> = {},
): Promise<ParsedBatchDocument> {
  const o = clientOptions(baseUrl, over);
  const res = await fetchBatch(o);
  return parseBatchDocument(res.body, { format: o.format, maxBytes: o.maxBytes });
}
