import { brotliCompressSync, deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { retryAfterMs } from '../src/client/fetch-batch';
import type { KnownBodyEvent } from '../src/client/fetch-batch';
import { ISAMS_MESSAGES, renderMessageDocument } from '../src/isams-messages';
import type { BatchParseEvent } from '../src/parser/parse-events';
import { fetchEvents, fetchFailure, fixture, TEST_KEY as KEY, testFetchOptions as options } from './helpers';
import { serversClosedAfterEach } from './local-servers';
import type { Handler } from './local-servers';

// What real servers in front of iSAMS do that the simulator does not: echo the key in their error
// text, answer the JSON endpoint with an XML error, compress the body, ask for a pause on 503.

const sample = fixture('reference-sample.xml');
const server = serversClosedAfterEach();

const answer =
  (status: number, body: string | Buffer, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/xml', ...headers });
    res.end(body);
  };

const run = fetchEvents;
const failure = fetchFailure;

const records = (events: readonly (BatchParseEvent | KnownBodyEvent)[]) =>
  events.filter((e) => e.type === 'record');

describe('a server that echoes the key in its error text', () => {
  const bare = KEY.slice(1, -1);
  const invalidKey = (description: string) =>
    renderMessageDocument({ ...ISAMS_MESSAGES.invalidApiKey, description }, {});
  const unhandled = (description: string) =>
    `<Message><MessageId>UnhandledException</MessageId><Title>Unknown Error</Title><Description>${description}</Description></Message>`;

  it.each([
    ['a 401 message quoting the braced key', 401, invalidKey(`The API key ${KEY} is invalid.`)],
    [
      'a 401 message quoting the key in lower case',
      401,
      invalidKey(`Key ${bare.toLowerCase()} is not active.`),
    ],
    [
      'a 500 message quoting the request URL',
      500,
      unhandled(`Error processing /api/batch/1.0/xml.ashx?apiKey=${encodeURIComponent(KEY)}: failed`),
    ],
    ['a 200 message quoting the bare key', 200, invalidKey(`Key ${bare} is inactive.`)],
  ])('%s: the error carries no form of the key', async (_label, status, body) => {
    const s = await server([answer(status, body)]);
    const err = await failure(options(s.url, { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } }));
    const texts = [err.message, JSON.stringify(err.details ?? {}), JSON.stringify(err), err.adminAction];
    for (const text of texts) {
      expect(text.toLowerCase()).not.toContain(bare.toLowerCase());
      expect(text.toLowerCase()).not.toContain(encodeURIComponent(KEY).toLowerCase());
    }
    expect(err.message).toContain('[REDACTED]');
  });
});

describe('an endpoint that answers in the other format', () => {
  it('the JSON endpoint answering 200 with an XML error message: the message is classified', async () => {
    const body = renderMessageDocument(ISAMS_MESSAGES.invalidApiKey, {});
    const s = await server([answer(200, body)]);
    const err = await failure(options(s.url, { format: 'json' }));
    expect(err.code).toBe('ISAMS_INVALID_KEY');
  });

  it('the JSON endpoint answering 200 with a UTF-16 XML error message (BOM first)', async () => {
    const text = renderMessageDocument(ISAMS_MESSAGES.invalidApiKey, {});
    const body = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
    const s = await server([answer(200, body)]);
    const err = await failure(options(s.url, { format: 'json' }));
    expect(err.code).toBe('ISAMS_INVALID_KEY');
  });

  it('error messages in BOM-less UTF-16 after whitespace, XML or JSON, LE or BE: classified by their text', async () => {
    const { messageId, title, description } = ISAMS_MESSAGES.deadlock;
    const xml = `\r\n${renderMessageDocument(ISAMS_MESSAGES.deadlock, {}).replace(/^<\?xml[^>]*>/, '')}`;
    const json = ` ${JSON.stringify({ Message: { MessageId: messageId, Title: title, Description: description } })}`;
    for (const text of [xml, json]) {
      const le = Buffer.from(text, 'utf16le');
      for (const body of [le, Buffer.from(le).swap16()]) {
        const s = await server([answer(500, body)]);
        const err = await failure(
          options(s.url, { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } }),
        );
        expect(err.code, text.slice(0, 12)).toBe('ISAMS_SERVER_BUSY');
      }
    }
  });

  it('the XML endpoint answering 200 with a JSON document: read as JSON', async () => {
    const s = await server([
      answer(200, fixture('reference-sketch.json'), { 'content-type': 'application/json' }),
    ]);
    const events = await run(options(s.url, { format: 'xml' }));
    expect(events.at(-1)!.type).toBe('end');
    expect(records(events).length).toBeGreaterThan(0);
  });
});

describe('a compressed body', () => {
  const plain = async () => {
    const s = await server([answer(200, sample)]);
    return records(await run(options(s.url)));
  };

  it('asks for the document uncompressed', async () => {
    let asked: string | string[] | undefined;
    const s = await server([
      (req, res) => {
        asked = req.headers['accept-encoding'];
        res.end(sample);
      },
    ]);
    await run(options(s.url));
    expect(asked).toBe('identity');
  });

  it.each([
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
    ['deflate', deflateRawSync],
    ['br', brotliCompressSync],
  ] as const)('reads a body sent with Content-Encoding %s anyway, record for record', async (coding, zip) => {
    const expected = await plain();
    const s = await server([answer(200, zip(sample), { 'content-encoding': coding })]);
    const events = await run(options(s.url));
    expect(events.at(-1)).toMatchObject({ type: 'end', absent: [] });
    expect(records(events)).toEqual(expected);
  });

  it('reads a body sent with two codings (gzip, then br)', async () => {
    const expected = await plain();
    const body = brotliCompressSync(gzipSync(sample));
    const s = await server([answer(200, body, { 'content-encoding': 'gzip, br' })]);
    expect(records(await run(options(s.url)))).toEqual(expected);
  });

  it('a coding it cannot read is named in a specific error, not read as text', async () => {
    const s = await server([answer(200, sample, { 'content-encoding': 'x-made-up' })]);
    const err = await failure(options(s.url));
    expect(err.code).toBe('ISAMS_MALFORMED_DOCUMENT');
    expect(err.message).toContain('x-made-up');
    expect(err.transient).toBe(false);
  });

  it('a corrupt gzip body is a malformed document', async () => {
    const zipped = gzipSync(sample);
    zipped.fill(0x41, 20, 60);
    const s = await server([answer(200, zipped, { 'content-encoding': 'gzip' })]);
    const err = await failure(options(s.url));
    expect(err.code).toBe('ISAMS_MALFORMED_DOCUMENT');
  });

  it('a gzip body cut short is a truncated document', async () => {
    const zipped = gzipSync(sample);
    const s = await server([
      answer(200, zipped.subarray(0, zipped.length - 30), { 'content-encoding': 'gzip' }),
    ]);
    const err = await failure(options(s.url, { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } }));
    expect(err.code).toBe('ISAMS_TRUNCATED_DOCUMENT');
  });

  it('reads a gzip body of several members (valid gzip) whole, record for record', async () => {
    const expected = await plain();
    const cut = sample.indexOf('<SchoolManager>');
    const body = Buffer.concat([gzipSync(sample.slice(0, cut)), gzipSync(sample.slice(cut))]);
    const s = await server([answer(200, body, { 'content-encoding': 'gzip' })]);
    const events = await run(options(s.url));
    expect(events.at(-1)).toMatchObject({ type: 'end', absent: [] });
    expect(records(events)).toEqual(expected);
  });

  it('bytes after the gzip data that are not another member: refused by a specific error, nothing read', async () => {
    for (const trailer of ['garbage\r\n', '<html>oops</html>']) {
      const body = Buffer.concat([gzipSync(sample), Buffer.from(trailer)]);
      const s = await server([answer(200, body, { 'content-encoding': 'gzip' })]);
      const err = await failure(options(s.url));
      expect(err.code, JSON.stringify(trailer)).toBe('ISAMS_MALFORMED_DOCUMENT');
      expect(err.message).toMatch(/bytes after its compressed data/);
      expect(err.details).toMatchObject({ contentEncoding: 'gzip', reason: 'bytes after the gzip data' });
      expect(err.adminAction).toMatch(/changed nothing/);
    }
    // zero bytes there are padding, as zlib reads them: the document is read
    const padded = Buffer.concat([gzipSync(sample), Buffer.alloc(4)]);
    const s = await server([answer(200, padded, { 'content-encoding': 'gzip' })]);
    expect((await run(options(s.url))).at(-1)).toMatchObject({ type: 'end', absent: [] });
  });

  it('a first gzip member that ends mid-document, then garbage, is never accepted', async () => {
    const cut = sample.indexOf('<SchoolManager>');
    const body = Buffer.concat([gzipSync(sample.slice(0, cut)), Buffer.from('garbage')]);
    const s = await server([answer(200, body, { 'content-encoding': 'gzip' })]);
    const err = await failure(options(s.url, { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } }));
    expect(err.code).toBe('ISAMS_MALFORMED_DOCUMENT');
  });

  it('a second gzip member that is corrupt is a malformed document', async () => {
    const cut = sample.indexOf('<SchoolManager>');
    const second = gzipSync(sample.slice(cut));
    second.fill(0x41, 12, 40);
    const body = Buffer.concat([gzipSync(sample.slice(0, cut)), second]);
    const s = await server([answer(200, body, { 'content-encoding': 'gzip' })]);
    const err = await failure(options(s.url));
    expect(err.code).toBe('ISAMS_MALFORMED_DOCUMENT');
  });

  it('the size limit applies to the decompressed document (a small body that inflates past it)', async () => {
    const bomb = gzipSync(Buffer.alloc(5_000_000, 0x20));
    expect(bomb.length).toBeLessThan(100_000);
    const s = await server([answer(200, bomb, { 'content-encoding': 'gzip' })]);
    const err = await failure(options(s.url, { maxBytes: 1_000_000 }));
    expect(err.code).toBe('ISAMS_RESPONSE_TOO_LARGE');
  });
});

describe('a compressed body: how many codings, how far each inflates, error responses', () => {
  it('more than 5 codings in a row are refused by a specific error, nothing decoded (curl CVE-2022-32206)', async () => {
    const wrapped = (n: number): Buffer => {
      let body = Buffer.from(sample);
      for (let i = 0; i < n; i++) body = gzipSync(body);
      return body;
    };
    const five = await server([
      answer(200, wrapped(5), { 'content-encoding': 'gzip, gzip, gzip, gzip, gzip' }),
    ]);
    expect((await run(options(five.url))).at(-1)).toMatchObject({ type: 'end', absent: [] });
    for (const n of [6, 2500]) {
      const s = await server([
        answer(200, wrapped(n), { 'content-encoding': Array(n).fill('gzip').join(',') }),
      ]);
      const err = await failure(options(s.url));
      expect(err, String(n)).toMatchObject({ code: 'ISAMS_MALFORMED_DOCUMENT', transient: false });
      expect(err.message).toContain(`${n} content codings`);
      expect(err.message.length).toBeLessThan(400);
      expect(err.details).toMatchObject({ contentCodings: n });
      expect(s.requests).toHaveLength(1);
    }
  });

  it('every decoding step is held to the size limit (a step that inflates past it, the document small again after)', async () => {
    // Raw deflate of 1 MB of empty stored blocks, then the document: the gzip over it is a few kB,
    // its inflated deflate stream 1 MB, the document ~10 kB.
    const empty = Buffer.alloc(5 * 200_000).map((_, i) => [0, 0, 0, 0xff, 0xff][i % 5]!);
    const deflated = Buffer.concat([empty, deflateRawSync(sample)]);
    const body = gzipSync(deflated);
    expect(body.length).toBeLessThan(20_000);
    const s = await server([answer(200, body, { 'content-encoding': 'deflate, gzip' })]);
    const err = await failure(options(s.url, { maxBytes: 500_000 }));
    expect(err).toMatchObject({ code: 'ISAMS_RESPONSE_TOO_LARGE', transient: false });
    expect((await run(options(s.url, { maxBytes: 2_000_000 }))).at(-1)).toMatchObject({ type: 'end' });
  });

  it.each([
    ['gzip', gzipSync],
    ['br', brotliCompressSync],
  ] as const)(
    'an iSAMS error message sent compressed (%s) is decoded and classified',
    async (coding, zip) => {
      const notAllocated = renderMessageDocument(ISAMS_MESSAGES.methodsNotAllocated, {
        methods: 'teaching_getteachingsets',
      });
      const s = await server([answer(403, zip(Buffer.from(notAllocated)), { 'content-encoding': coding })]);
      const err = await failure(options(s.url));
      expect(err.code).toBe('ISAMS_METHODS_NOT_ALLOCATED');
      expect(err.details).toMatchObject({ datasets: ['teachingSets'] });
      const busy = await server([
        answer(500, zip(Buffer.from(renderMessageDocument(ISAMS_MESSAGES.deadlock, {}))), {
          'content-encoding': coding,
        }),
        answer(200, sample),
      ]);
      expect((await run(options(busy.url))).at(-1)).toMatchObject({ type: 'end' });
      expect(busy.requests).toHaveLength(2);
    },
  );

  it('an error body labelled with a coding it is not in, or one SchoolCloud cannot read, is read as it came', async () => {
    const deadlock = Buffer.from(renderMessageDocument(ISAMS_MESSAGES.deadlock, {}));
    for (const coding of ['gzip', 'x-made-up']) {
      const s = await server([answer(500, deadlock, { 'content-encoding': coding })]);
      expect((await failure(options(s.url))).code, coding).toBe('ISAMS_SERVER_BUSY');
    }
  });

  it('an error body that inflates without end, or has too many codings, is classified by its status', async () => {
    for (const coding of ['gzip', Array(9).fill('gzip').join(', ')]) {
      const s = await server([
        answer(500, gzipSync(Buffer.alloc(20_000_000, 0x20)), { 'content-encoding': coding }),
      ]);
      const err = await failure(options(s.url));
      expect(err, coding).toMatchObject({
        code: 'ISAMS_HTTP_ERROR',
        transient: false,
        details: { httpStatus: 500 },
      });
    }
  });
});

describe('Retry-After', () => {
  /** The delays the client decided on before each retry (from its log line), in order. */
  async function delays(handlers: Handler[], maxDelayMs = 5_000): Promise<number[]> {
    const decided: number[] = [];
    const log = (obj: object, msg?: string) => {
      if (msg === 'iSAMS request failed transiently; retrying')
        decided.push((obj as { delayMs: number }).delayMs);
    };
    const logger = { debug: () => undefined, info: log, warn: () => undefined, error: () => undefined };
    const s = await server(handlers);
    const events = await run(
      options(s.url, { logger, retry: { maxAttempts: 2, baseDelayMs: 400, maxDelayMs } }),
    );
    expect(events.at(-1)!.type).toBe('end');
    return decided;
  }
  const ok = answer(200, sample);

  it('a 503 with Retry-After in seconds waits that long', async () => {
    expect(await delays([answer(503, '', { 'retry-after': '1' }), ok])).toEqual([1000]);
  });

  it('a 503 with Retry-After as an HTTP date waits until then', async () => {
    const at = new Date(Date.now() + 2_000).toUTCString();
    const [delay] = await delays([answer(503, '', { 'retry-after': at }), ok]);
    expect(delay).toBeGreaterThan(400);
    expect(delay).toBeLessThanOrEqual(2_000);
  });

  it.each(['99999999999999999999', 'Fri, 31 Dec 9999 23:59:59 GMT'])(
    'an absurdly long Retry-After (%s) waits the policy’s maximum delay, no longer',
    async (value) => {
      expect(await delays([answer(429, '', { 'retry-after': value }), ok], 300)).toEqual([300]);
    },
  );

  it('reads the three HTTP-date forms of RFC 9110 (asctime is GMT too)', () => {
    const now = Date.UTC(1994, 10, 6, 8, 49, 0);
    for (const date of [
      'Sun, 06 Nov 1994 08:49:37 GMT',
      'Sunday, 06-Nov-94 08:49:37 GMT',
      'Sun Nov  6 08:49:37 1994',
    ])
      expect(retryAfterMs(date, now), date).toBe(37_000);
  });

  // 'Retry 5' and 'later 12': V8's Date.parse reads them as dates in 2001.
  it.each(['', '  ', 'soon', '-5', 'Retry 5', 'later 12', '1.5'])(
    'a 429 with an unusable Retry-After (%j) backs off as usual',
    async (value) => {
      const [delay] = await delays([answer(429, '', { 'retry-after': value }), ok]);
      expect(delay).toBeGreaterThanOrEqual(200);
    },
  );
});
