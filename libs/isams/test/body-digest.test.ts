import { createHash } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { DigestedBody } from '../src/client/body-digest';
import type { BodyDigest } from '../src/client/body-digest';
import { fetchAndParse, fetchAndParseBatches } from '../src/client/fetch-batch';
import type { FetchBatchOptions, KnownBodyEvent } from '../src/client/fetch-batch';
import type { BatchParseEvent } from '../src/parser/parse-events';
import { streamBatchDocumentBatches } from '../src/parser/stream-batch-document';
import { testFetchOptions } from './helpers';
import { startServer } from './local-servers';
import type { Handler } from './local-servers';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const sha256 = (b: Buffer): string => createHash('sha256').update(b).digest('hex');

/** A well-formed document of `rows` set-list rows (~250 bytes each). */
function setLists(rows: number): Buffer {
  const body = Array.from(
    { length: rows },
    (_, i) =>
      `<SetList Id="${i + 1}" SetId="${(i % 50) + 1}" PupilId="${i + 700}"><Padding>${'x'.repeat(200)}</Padding></SetList>`,
  ).join('');
  return Buffer.from(`<iSAMS><TeachingManager><SetLists>${body}</SetLists></TeachingManager></iSAMS>`);
}

async function serving(body: Buffer, handler?: Handler): Promise<string> {
  const s = await startServer([
    handler ??
      ((_req, res) => {
        res.writeHead(200, { 'content-type': 'text/xml', 'content-length': String(body.length) });
        res.end(body);
      }),
  ]);
  cleanups.push(s.close);
  return s.url;
}

async function read(
  opts: FetchBatchOptions,
  perRecord?: () => Promise<void>,
): Promise<(BatchParseEvent | KnownBodyEvent)[]> {
  const events: (BatchParseEvent | KnownBodyEvent)[] = [];
  for await (const e of fetchAndParse(opts)) {
    events.push(e);
    if (e.type === 'record' && perRecord) await perRecord();
  }
  return events;
}

const slowly = () => new Promise<void>((r) => setImmediate(r));

describe('fetchAndParse with a body digest', () => {
  it('hears the whole body’s sha256 and size, and parses as without it when the body is new', async () => {
    const body = setLists(2000);
    const url = await serving(body);
    const heard: BodyDigest[] = [];
    const events = await read(
      testFetchOptions(url, {
        digest: { onBody: (b) => heard.push(b), knownSha256: sha256(Buffer.from('other')) },
      }),
    );
    expect(heard).toEqual([{ sha256: sha256(body), bytes: body.length }]);
    expect(events).toEqual(await read(testFetchOptions(url)));
    expect(events.at(-1)).toMatchObject({ type: 'end', bytes: body.length });
  });

  it('stops the parse on a body it knows: `known-body` is the last event, before the records run out and without `end`', async () => {
    const body = setLists(20_000); // ~5 MB: the download ends long before a slow parse does
    const url = await serving(body);
    const events = await read(
      testFetchOptions(url, {
        digest: { onBody: () => undefined, knownSha256: sha256(body), readAheadBytes: 64 * 1024 * 1024 },
      }),
      slowly,
    );
    expect(events.at(-1)).toEqual({ type: 'known-body', sha256: sha256(body), bytes: body.length });
    expect(events.some((e) => e.type === 'end')).toBe(false);
    expect(events.filter((e) => e.type === 'record').length).toBeLessThan(20_000);
  });

  it('a body cut off after records is still an error with a digest: nothing is known of it', async () => {
    const body = setLists(2000);
    const heard: BodyDigest[] = [];
    const url = await serving(body, (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' });
      res.write(body.subarray(0, 100_000));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    const types: string[] = [];
    const err = await (async () => {
      try {
        for await (const e of fetchAndParse(
          testFetchOptions(url, {
            retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
            digest: { onBody: (b) => heard.push(b), knownSha256: sha256(body), readAheadBytes: 1 << 20 },
          }),
        ))
          types.push(e.type);
      } catch (e) {
        return e as { code: string };
      }
      return undefined;
    })();
    expect(types).toContain('record');
    expect(types).not.toContain('known-body');
    expect(['ISAMS_TRUNCATED_DOCUMENT', 'ISAMS_CONNECTION_RESET']).toContain(err?.code);
    expect(heard).toEqual([]);
  });

  it('a first response that ends before any record is retried, and only the whole retried body is heard and known', async () => {
    const body = setLists(2000);
    const s = await startServer([
      (_q, res) => res.end('<iSAMS><TeachingMan'),
      (_q, res) => {
        res.writeHead(200, { 'content-type': 'text/xml', 'content-length': String(body.length) });
        res.end(body);
      },
    ]);
    cleanups.push(s.close);
    const heard: BodyDigest[] = [];
    const events = await read(
      testFetchOptions(s.url, {
        digest: { onBody: (b) => heard.push(b), knownSha256: sha256(body), readAheadBytes: 1 << 24 },
      }),
    );
    expect(s.requests).toHaveLength(2);
    expect(heard.at(-1)).toEqual({ sha256: sha256(body), bytes: body.length });
    expect(events).toEqual([{ type: 'known-body', sha256: sha256(body), bytes: body.length }]);
  });

  it('a known body that fits the read-ahead never reaches the parser (nothing of it is parsed, on any thread)', async () => {
    const body = setLists(2000);
    const url = await serving(body);
    let parses = 0;
    const batches: unknown[] = [];
    for await (const batch of fetchAndParseBatches(
      testFetchOptions(url, {
        digest: { onBody: () => undefined, knownSha256: sha256(body), readAheadBytes: 1 << 24 },
      }),
      (input, opts) => {
        parses += 1;
        return streamBatchDocumentBatches(input, opts);
      },
    ))
      batches.push(batch);
    expect(batches).toEqual([[{ type: 'known-body', sha256: sha256(body), bytes: body.length }]]);
    expect(parses).toBe(0);
  });

  it('the response-size limit holds while reading ahead', async () => {
    const body = setLists(4000);
    const url = await serving(body, (_q, res) => {
      res.writeHead(200, { 'content-type': 'text/xml' }); // no Content-Length: counted as it streams
      res.end(body);
    });
    await expect(
      read(
        testFetchOptions(url, {
          maxBytes: 200_000,
          digest: { onBody: () => undefined, knownSha256: sha256(body), readAheadBytes: 1 << 24 },
        }),
      ),
    ).rejects.toMatchObject({ code: 'ISAMS_RESPONSE_TOO_LARGE' });
  });
});

/** A source of `count` chunks of `size` bytes that records how many it has handed out. */
function countingSource(count: number, size: number, failAfter?: number) {
  const state = { pulled: 0, finished: false };
  async function* source(): AsyncGenerator<Uint8Array> {
    try {
      for (let i = 0; i < count; i++) {
        if (failAfter !== undefined && i === failAfter) throw new Error('connection reset');
        state.pulled += 1;
        yield new Uint8Array(size).fill(i % 251);
        await slowly();
      }
    } finally {
      state.finished = true;
    }
  }
  return { state, source: source() };
}

describe('DigestedBody', () => {
  it('runs ahead of its reader by at most readAheadBytes (and one chunk), and hands every byte over in order', async () => {
    const { state, source } = countingSource(200, 1024);
    const body = new DigestedBody(source, { onBody: () => undefined, readAheadBytes: 10 * 1024 });
    let read = 0;
    let furthestAhead = 0;
    const seen: number[] = [];
    for await (const chunk of body) {
      read += 1;
      seen.push(chunk[0]!);
      for (let i = 0; i < 5; i++) await slowly();
      furthestAhead = Math.max(furthestAhead, state.pulled - read);
    }
    expect(read).toBe(200);
    expect(seen).toEqual(Array.from({ length: 200 }, (_, i) => i % 251));
    expect(furthestAhead).toBeGreaterThan(5); // it did read ahead…
    expect(furthestAhead).toBeLessThanOrEqual(11); // …but no further than allowed
  });

  it('the digest is that of every byte, heard once the last byte is in', async () => {
    const { source } = countingSource(50, 333);
    const expected = createHash('sha256');
    for (let i = 0; i < 50; i++) expected.update(new Uint8Array(333).fill(i % 251));
    const heard: BodyDigest[] = [];
    const body = new DigestedBody(source, { onBody: (b) => heard.push(b), readAheadBytes: 1 << 20 });
    for await (const _ of body) void _;
    expect(heard).toEqual([{ sha256: expected.digest('hex'), bytes: 50 * 333 }]);
    expect(body.digest).toEqual(heard[0]);
  });

  it('a source error reaches the reader after the chunks read before it, and no digest is heard', async () => {
    const { source } = countingSource(50, 100, 20);
    const heard: BodyDigest[] = [];
    const body = new DigestedBody(source, {
      onBody: (b) => heard.push(b),
      knownSha256: 'x',
      readAheadBytes: 1 << 20,
    });
    let chunks = 0;
    await expect(
      (async () => {
        for await (const _ of body) chunks += 1;
      })(),
    ).rejects.toThrow('connection reset');
    expect(chunks).toBe(20);
    expect(heard).toEqual([]);
    expect(body.isKnown).toBe(false);
  });

  it('with a known body, the parse waits for the whole body while it fits in the read-ahead, and only that long', async () => {
    const fits = countingSource(50, 1024);
    const whole = new DigestedBody(fits.source, {
      onBody: () => undefined,
      knownSha256: 'x',
      readAheadBytes: 1 << 20,
    });
    const pulledAtFirstChunk: number[] = [];
    for await (const _ of whole) pulledAtFirstChunk.push(fits.state.pulled);
    expect(pulledAtFirstChunk[0]).toBe(50);
    expect(pulledAtFirstChunk).toHaveLength(50);

    const larger = countingSource(50, 1024);
    const behind = new DigestedBody(larger.source, {
      onBody: () => undefined,
      knownSha256: 'x',
      readAheadBytes: 8 * 1024,
    });
    let first: number | undefined;
    let chunks = 0;
    for await (const _ of behind) {
      first ??= larger.state.pulled;
      chunks += 1;
    }
    expect(first).toBe(9); // the read-ahead's 8 KiB and the chunk past it
    expect(chunks).toBe(50);
  });

  it('closed before it is read, it stops pulling and returns its source', async () => {
    const { state, source } = countingSource(1000, 1024);
    const body = new DigestedBody(source, { onBody: () => undefined, readAheadBytes: 1 << 30 });
    await slowly();
    body.close();
    for (let i = 0; i < 10 && !state.finished; i++) await slowly();
    expect(state.finished).toBe(true);
    expect(state.pulled).toBeLessThan(1000);
  });
});
