import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import { join } from 'node:path';
import { streamBatchDocument } from '../src/parser/stream-batch-document';
import type { BatchParseEvent } from '../src/parser/parse-events';
import type { RawElement } from '../src/raw-element';
import { fetchAndParse } from '../src/client/fetch-batch';
import type { FetchBatchOptions, KnownBodyEvent } from '../src/client/fetch-batch';
import { IsamsError } from '../src/errors/isams-error';

export const fixture = (name: string): string =>
  readFileSync(join(import.meta.dirname, 'fixtures', name), 'utf8');

/** Feeds `input` in chunks of `size` bytes. */
export async function* chunks(input: string | Uint8Array, size = 7): AsyncGenerator<Uint8Array> {
  const bytes = typeof input === 'string' ? Buffer.from(input, 'utf8') : input;
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

export async function collect(
  input: string | Uint8Array,
  format: 'xml' | 'json' = 'xml',
  size = 7,
): Promise<BatchParseEvent[]> {
  const out: BatchParseEvent[] = [];
  for await (const e of streamBatchDocument(chunks(input, size), { format })) out.push(e);
  return out;
}

export async function errorOf(
  promise: Promise<unknown>,
): Promise<{ code: string; message: string } & Record<string, unknown>> {
  try {
    await promise;
  } catch (err) {
    return err as { code: string; message: string };
  }
  throw new Error('expected a rejection');
}

/** The iSAMS key of the client tests (asserted never to leak into errors). */
export const TEST_KEY = '{0A1C996B-8E74-4388-A3C4-8DA1E40ADA57}';

/** Fetch options of the client tests: short time-outs and fast retries against a local server. */
export function testFetchOptions(baseUrl: string, extra: Partial<FetchBatchOptions> = {}): FetchBatchOptions {
  return {
    baseUrl,
    apiKey: TEST_KEY,
    format: 'xml',
    connectTimeoutMs: 2000,
    readTimeoutMs: 2000,
    totalTimeoutMs: 10_000,
    maxBytes: 10_000_000,
    retry: { maxAttempts: 3, baseDelayMs: 5, maxDelayMs: 20 },
    ...extra,
  };
}

/**
 * Teaching set 501 of the reference documents, the same in XML and JSON: its attributes, `SubjectId`
 * with its attribute and text, an empty `Description`. Returns its `Teachers` element.
 */
export function expectReferenceTeachingSet(set: RawElement): RawElement {
  expect(set.attributes).toEqual({ Id: '501', SubjectId: '21', YearId: '9', AuthorId: '1' });
  expect(set.children.find((c) => c.name === 'SubjectId')).toEqual({
    name: 'SubjectId',
    attributes: { Legacy: 'True' },
    text: '21',
    children: [],
  });
  expect(set.children.find((c) => c.name === 'Description')).toEqual({
    name: 'Description',
    attributes: {},
    children: [],
  });
  return set.children.find((c) => c.name === 'Teachers')!;
}

/** Every event of {@link fetchAndParse} with `opts`. */
export async function fetchEvents(opts: FetchBatchOptions): Promise<(BatchParseEvent | KnownBodyEvent)[]> {
  const events: (BatchParseEvent | KnownBodyEvent)[] = [];
  for await (const e of fetchAndParse(opts)) events.push(e);
  return events;
}

/** The {@link IsamsError} {@link fetchAndParse} with `opts` fails with (the test fails when it does not). */
export async function fetchFailure(opts: FetchBatchOptions): Promise<IsamsError> {
  try {
    await fetchEvents(opts);
  } catch (err) {
    expect(err).toBeInstanceOf(IsamsError);
    return err as IsamsError;
  }
  throw new Error('expected a failure');
}
