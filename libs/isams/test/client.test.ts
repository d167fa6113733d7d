import { afterEach, describe, expect, it } from 'vitest';
import { buildBatchUrl, fetchAndParse, fetchBatch } from '../src/client/fetch-batch';
import type { FetchBatchOptions } from '../src/client/fetch-batch';
import { ISAMS_MESSAGES, renderMessageDocument } from '../src/isams-messages';
import type { IsamsMessageSpec } from '../src/isams-messages';
import type { BatchParseEvent } from '../src/parser/parse-events';
import { ISAMS_ERRORS } from '../src/errors/isams-error';
import type { IsamsError } from '../src/errors/isams-error';
import { decideRedirect, MAX_REDIRECTS, redirectAddress } from '../src/client/redirects';
import { fetchEvents, fetchFailure, fixture, TEST_KEY as KEY, testFetchOptions } from './helpers';
import { startForwardProxy, startServer, startSilentServer } from './local-servers';
import type { Handler } from './local-servers';

const sample = fixture('reference-sample.xml');
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length > 0) await cleanups.pop()!();
});

const ok: Handler = (_req, res) => {
  res.writeHead(200, { 'content-type': 'text/xml' });
  res.end(sample);
};
const message =
  (spec: IsamsMessageSpec, params: Record<string, string> = {}, status = spec.httpStatus): Handler =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'text/xml' });
    res.end(renderMessageDocument(spec, params));
  };
const status =
  (code: number, headers: Record<string, string> = {}): Handler =>
  (_req, res) => {
    res.writeHead(code, headers);
    res.end();
  };

async function server(handlers: Handler[]) {
  const s = await startServer(handlers);
  cleanups.push(s.close);
  return s;
}

const options = testFetchOptions;

const run = fetchEvents;

async function failure(opts: FetchBatchOptions): Promise<IsamsError> {
  const err = await fetchFailure(opts);
  assertNoKey(err);
  return err;
}

function assertNoKey(err: IsamsError): void {
  const bare = KEY.slice(1, -1);
  const cause = err.cause as Error | undefined;
  const texts = [
    err.message,
    err.stack ?? '',
    JSON.stringify(err.details ?? {}),
    JSON.stringify(err),
    String(cause ?? ''),
    cause?.stack ?? '',
    err.adminAction,
  ];
  for (const t of texts) {
    expect(t).not.toContain(bare);
    expect(t).not.toContain(encodeURIComponent(KEY));
  }
}

// fetchBatch / fetchAndParse against a real local server (./local-servers), a new one per test.
describe('fetchBatch / fetchAndParse: the request sent to iSAMS', () => {
  it('GETs the XML endpoint with the key exactly as given and streams the document', async () => {
    const s = await server([ok]);
    const events = await run(options(s.url));
    expect(events.at(-1)).toMatchObject({ type: 'end', absent: [] });
    expect(events.filter((e) => e.type === 'record')).toHaveLength(18);
    expect(s.requests).toHaveLength(1);
    const url = new URL(s.requests[0]!.url, s.url);
    expect(url.pathname).toBe('/api/batch/1.0/xml.ashx');
    expect(url.searchParams.get('apiKey')).toBe(KEY);
    expect(s.requests[0]!.method).toBe('GET');
  });

  it('POSTs MethodsToRun filters and uses json.ashx for JSON', async () => {
    const s = await server([(_q, res) => res.end(fixture('reference-sketch.json'))]);
    const events = await run(options(s.url, { format: 'json', methodsToRun: ['Teaching_GetTeachingSets'] }));
    expect(events.at(-1)!.type).toBe('end');
    expect(s.requests[0]).toMatchObject({
      method: 'POST',
      body: '<Filters><MethodsToRun><Method>Teaching_GetTeachingSets</Method></MethodsToRun></Filters>',
    });
    expect(new URL(s.requests[0]!.url, s.url).pathname).toBe('/api/batch/1.0/json.ashx');
  });

  it('requests the endpoint once when the address given already ends with it (pasted from the iSAMS FAQ)', async () => {
    const s = await server([ok]);
    await run(options(`${s.url}/API/Batch/1.0/JSON.ashx/`));
    expect(new URL(s.requests[0]!.url, s.url).pathname).toBe('/api/batch/1.0/xml.ashx');
    expect(buildBatchUrl('https://isams.school.org/isams/api/batch/1.0/xml.ashx', 'K', 'json')).toBe(
      'https://isams.school.org/isams/api/batch/1.0/json.ashx?apiKey=K',
    );
  });

  it('keeps the key out of log lines', async () => {
    const lines: string[] = [];
    const log = (obj: object, msg?: string) => lines.push(JSON.stringify(obj) + (msg ?? ''));
    const logger = { debug: log, info: log, warn: log, error: log };
    const s = await server([status(503), message(ISAMS_MESSAGES.invalidApiKey)]);
    await failure(options(s.url, { logger }));
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines) {
      expect(line).not.toContain(KEY.slice(1, -1));
      expect(line).not.toContain(encodeURIComponent(KEY));
    }
    expect(lines.join('\n')).toContain('apiKey=[REDACTED]');
  });
});

describe('fetchBatch / fetchAndParse: transient failures are retried with back-off', () => {
  it.each([
    [408, 'ISAMS_TIMEOUT'],
    [429, 'ISAMS_THROTTLED'],
    [502, 'ISAMS_HTTP_ERROR'],
    [503, 'ISAMS_HTTP_ERROR'],
    [504, 'ISAMS_TIMEOUT'],
  ])('retries HTTP %i with back-off and succeeds', async (code, expected) => {
    const s = await server([status(code, { 'retry-after': '0' }), ok]);
    expect((await run(options(s.url))).at(-1)!.type).toBe('end');
    expect(s.requests).toHaveLength(2);
    const always = await server([status(code)]);
    const err = await failure(options(always.url));
    expect(err.code).toBe(expected);
    expect(err.transient).toBe(true);
    expect(always.requests).toHaveLength(3);
  });

  it('retries the 500 deadlock and lock time-out messages, gives up after maxAttempts', async () => {
    const s = await server([message(ISAMS_MESSAGES.deadlock), message(ISAMS_MESSAGES.lockTimeout), ok]);
    expect((await run(options(s.url))).at(-1)!.type).toBe('end');
    expect(s.requests).toHaveLength(3);
    const busy = await server([message(ISAMS_MESSAGES.deadlock)]);
    const err = await failure(options(busy.url));
    expect(err).toMatchObject({ code: 'ISAMS_SERVER_BUSY', transient: true, kind: 'unavailable' });
    expect(busy.requests).toHaveLength(3);
  });

  it('throttled with an iSAMS message, honouring Retry-After', async () => {
    const s = await server([message(ISAMS_MESSAGES.throttled, { limit: '100', period: 'hour' }), ok]);
    expect((await run(options(s.url))).at(-1)!.type).toBe('end');
    expect(s.requests).toHaveLength(2);
  });

  it('an early end before any record is retried', async () => {
    const s = await server([(_q, res) => res.end('<iSAMS><HRMan'), ok]);
    expect((await run(options(s.url))).at(-1)!.type).toBe('end');
    expect(s.requests).toHaveLength(2);
  });
});

describe('fetchBatch / fetchAndParse: configuration errors fail at once, naming what to fix', () => {
  it.each([
    ['invalid key', message(ISAMS_MESSAGES.invalidApiKey), 'ISAMS_INVALID_KEY'],
    ['missing key', message(ISAMS_MESSAGES.missingParameter), 'ISAMS_INVALID_KEY'],
    ['bare 401', status(401), 'ISAMS_INVALID_KEY'],
    [
      'not allocated',
      message(ISAMS_MESSAGES.methodsNotAllocated, {
        methods: 'teaching_getteachingsets, pupil_getapplicant',
      }),
      'ISAMS_METHODS_NOT_ALLOCATED',
    ],
    ['IP restricted', message(ISAMS_MESSAGES.ipNotAllowed, { ip: '203.0.113.7' }), 'ISAMS_IP_NOT_ALLOWED'],
    ['bare 403', status(403), 'ISAMS_IP_NOT_ALLOWED'],
    [
      'filters required',
      message(ISAMS_MESSAGES.filtersRequired, { method: 'SchoolReports - GetReports' }),
      'ISAMS_ERROR_DOCUMENT',
    ],
    ['malformed request body', message(ISAMS_MESSAGES.malformedRequestBody), 'ISAMS_ERROR_DOCUMENT'],
    ['404', status(404), 'ISAMS_HTTP_ERROR'],
    ['200 with an error document', message(ISAMS_MESSAGES.invalidApiKey, {}, 200), 'ISAMS_INVALID_KEY'],
    ['200 with HTML', (_q, res) => res.end('<html><body>Login</body></html>'), 'ISAMS_MALFORMED_DOCUMENT'],
  ] as [string, Handler, string][])(
    'does not retry a configuration error: %s',
    async (_name, handler, code) => {
      const s = await server([handler]);
      const err = await failure(options(s.url));
      expect(err.code).toBe(code);
      expect(err.transient).toBe(false);
      expect(err.adminAction.length).toBeGreaterThan(20);
      expect(s.requests).toHaveLength(1);
    },
  );

  it('names the datasets to tick for MethodsNotAllocated', async () => {
    const s = await server([
      message(ISAMS_MESSAGES.methodsNotAllocated, {
        methods: 'teaching_getteachingsets, pupil_getapplicant',
      }),
    ]);
    const err = await failure(options(s.url));
    expect(err.details).toMatchObject({
      methods: ['teaching_getteachingsets', 'pupil_getapplicant'],
      datasets: ['teachingSets'],
      adminNames: ['Teaching Manager – Teaching Sets'],
    });
    expect(err.adminAction).toContain('Teaching Manager – Teaching Sets');
    expect(err.adminAction).toContain('Manage Batch API Keys');
  });
});

describe('fetchBatch / fetchAndParse: bodies cut short or ended by the connection', () => {
  it('a truncated body after records is an error, never a shorter list, and is not retried', async () => {
    const s = await server([
      (_q, res) => {
        res.writeHead(200, { 'content-type': 'text/xml' });
        res.write(sample.slice(0, 6000));
        setTimeout(() => res.socket?.destroy(), 20);
      },
    ]);
    const events: string[] = [];
    let err: IsamsError | undefined;
    try {
      for await (const e of fetchAndParse(options(s.url))) events.push(e.type);
    } catch (e) {
      err = e as IsamsError;
    }
    expect(events).toContain('record');
    expect(events).not.toContain('end');
    expect(['ISAMS_TRUNCATED_DOCUMENT', 'ISAMS_CONNECTION_RESET']).toContain(err?.code);
    assertNoKey(err!);
    expect(s.requests).toHaveLength(1);
  });

  it('a server that closes (FIN) mid-body on a keep-alive connection: ISAMS_TRUNCATED_DOCUMENT, not a reset', async () => {
    const s = await server([
      (_q, res) => {
        res.writeHead(200, { 'content-type': 'text/xml', 'content-length': String(sample.length) });
        res.write(sample.slice(0, 6000), () => res.socket?.end());
      },
    ]);
    const err = await failure(options(s.url, { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } }));
    expect(err).toMatchObject({ code: 'ISAMS_TRUNCATED_DOCUMENT', transient: true });
    expect(err.message).toContain('closed the connection before the whole document arrived');
  });

  it('reads documents from a server that closes the connection after every response (close-delimited bodies, retries included)', async () => {
    const closeDelimited: Handler = (_req, res) => {
      // HTTP/1.0 semantics: no Content-Length, no chunking; the body ends with the connection.
      res.removeHeader('transfer-encoding');
      res.writeHead(200, { 'content-type': 'text/xml', connection: 'close' });
      res.write(sample.slice(0, 200));
      setTimeout(() => res.end(sample.slice(200)), 20);
    };
    const deadlockThenClose: Handler = (_req, res) => {
      res.writeHead(500, { 'content-type': 'text/xml', connection: 'close' });
      res.end(renderMessageDocument(ISAMS_MESSAGES.deadlock));
    };
    const s = await server([deadlockThenClose, closeDelimited, closeDelimited]);
    const first = await run(options(s.url));
    const second = await run(options(s.url, { methodsToRun: ['School_GetAllYears'] }));
    expect(s.requests.map((r) => r.method)).toEqual(['GET', 'GET', 'POST']);
    for (const events of [first, second]) {
      expect(events.at(-1)?.type).toBe('end');
      expect(events.filter((e) => e.type === 'record').length).toBe(
        (await run(options((await server([ok])).url))).filter((e) => e.type === 'record').length,
      );
    }
  });

  it.each(['content-length', 'close-delimited'] as const)(
    'a large %s document from a server that closes after the response is read whole by a slow consumer (no client crash)',
    async (framing) => {
      // 4,000 set-list rows (~1 MB): the body arrives faster than a slow consumer reads it, so the
      // HTTP client holds the parser back (backpressure) when the server's FIN arrives.
      const rows = Array.from(
        { length: 4000 },
        (_, i) =>
          `<SetList Id="${i + 1}" SetId="${(i % 50) + 1}" PupilId="${i + 700}"><SetId Legacy="True">${(i % 50) + 1}</SetId><Padding>${'x'.repeat(200)}</Padding></SetList>`,
      );
      const body = Buffer.from(
        `<iSAMS><TeachingManager><SetLists>${rows.join('')}</SetLists></TeachingManager></iSAMS>`,
      );
      const s = await server([
        (_req, res) => {
          if (framing === 'close-delimited') res.removeHeader('transfer-encoding');
          res.writeHead(200, {
            'content-type': 'text/xml',
            connection: 'close',
            ...(framing === 'content-length' ? { 'content-length': String(body.length) } : {}),
          });
          res.end(body);
        },
      ]);
      let records = 0;
      let end: BatchParseEvent | undefined;
      for await (const e of fetchAndParse(options(s.url))) {
        if (e.type === 'record' && ++records % 500 === 0) await new Promise((r) => setTimeout(r, 25));
        if (e.type === 'end') end = e;
      }
      expect(records).toBe(4000);
      expect(end).toMatchObject({ type: 'end', bytes: body.length });
    },
  );
});

describe('fetchBatch / fetchAndParse: time-outs, the size limit and network failures', () => {
  it('the total time-out firing while the body streams is named as such', async () => {
    const s = await server([
      (_q, res) => {
        res.writeHead(200, { 'content-type': 'text/xml' });
        const drip = setInterval(() => (res.destroyed ? clearInterval(drip) : res.write(' ')), 20);
        res.write(sample.slice(0, 10));
      },
    ]);
    const err = await failure(
      options(s.url, { totalTimeoutMs: 300, retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } }),
    );
    expect(err.code).toBe('ISAMS_TIMEOUT');
    expect(err.message).toBe(`The request to 127.0.0.1:${s.port} took longer than 300 ms.`);
  });

  it('times out when the server does not answer (idle read time-out) and when the body stalls', async () => {
    const s = await server([() => undefined]);
    const err = await failure(
      options(s.url, { readTimeoutMs: 150, retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 2 } }),
    );
    expect(err).toMatchObject({ code: 'ISAMS_TIMEOUT', transient: true });
    expect(s.requests).toHaveLength(2);
    // A body that stalls after its first bytes times out under the idle read limit and under the total one.
    for (const limit of [{ readTimeoutMs: 150 }, { totalTimeoutMs: 200 }]) {
      const stalled = await server([(_q, res) => res.write(sample.slice(0, 10))]);
      const retry = { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 };
      expect((await failure(options(stalled.url, { ...limit, retry }))).code, JSON.stringify(limit)).toBe(
        'ISAMS_TIMEOUT',
      );
    }
  });

  it('enforces the response-size limit from Content-Length and while streaming', async () => {
    const s = await server([ok]);
    expect((await failure(options(s.url, { maxBytes: 1000 }))).code).toBe('ISAMS_RESPONSE_TOO_LARGE');
    expect(s.requests).toHaveLength(1);
    const chunked = await server([
      (_q, res) => {
        res.write(sample.slice(0, 5000));
        res.end(sample.slice(5000));
      },
    ]);
    expect((await failure(options(chunked.url, { maxBytes: 1000 }))).code).toBe('ISAMS_RESPONSE_TOO_LARGE');
  });

  it('classifies connection refused, DNS and TLS failures', async () => {
    const s = await server([ok]);
    await s.close();
    cleanups.pop();
    const refused = await failure(
      options(s.url, { retry: { maxAttempts: 2, baseDelayMs: 1, maxDelayMs: 1 } }),
    );
    expect(refused).toMatchObject({ code: 'ISAMS_CONNECTION_REFUSED', transient: true });
    expect(
      (
        await failure(
          options('https://no-such-school.invalid', {
            retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
          }),
        )
      ).code,
    ).toBe('ISAMS_DNS');
    const plain = await server([ok]);
    const tls = await failure(
      options(`https://127.0.0.1:${plain.port}`, {
        retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 },
      }),
    );
    expect(tls.code).toBe('ISAMS_TLS');
  });
});

describe('redirect policy: followed only within the iSAMS host, so the key never leaves it', () => {
  const from = new URL(`http://127.0.0.1:8080/api/batch/1.0/xml.ashx?apiKey=${encodeURIComponent(KEY)}`);
  const decide = (location: string | undefined, hops = 0, status = 302, at = from) =>
    decideRedirect(at, status, location, hops, KEY);
  const refusal = (d: ReturnType<typeof decide>): IsamsError => {
    if (!('refuse' in d)) throw new Error(`expected a refusal, got ${d.follow.href}`);
    assertNoKey(d.refuse);
    return d.refuse;
  };

  it('follows a relative or absolute Location on the same scheme, host and port', () => {
    expect(decide('/moved/api/batch/1.0/xml.ashx?apiKey=x')).toEqual({
      follow: new URL('http://127.0.0.1:8080/moved/api/batch/1.0/xml.ashx?apiKey=x'),
    });
    expect(decide('http://127.0.0.1:8080/other')).toEqual({ follow: new URL('http://127.0.0.1:8080/other') });
    const https = new URL('https://School.isams.cloud/api/batch/1.0/xml.ashx');
    expect(decide('https://school.isams.cloud:443/x', 0, 301, https)).toEqual({
      follow: new URL('https://school.isams.cloud/x'),
    });
  });

  it('follows the upgrade from http to https on the same host name', () => {
    const plain = new URL('http://school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=k');
    expect(decide('https://school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=k', 0, 301, plain)).toEqual({
      follow: new URL('https://school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=k'),
    });
  });

  it('refuses another host or another port with ISAMS_REDIRECTED naming the address to enter, without the key', () => {
    for (const location of [
      `https://new-school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=${encodeURIComponent(KEY)}`,
      `http://localhost:8080/api/batch/1.0/xml.ashx?apiKey=${encodeURIComponent(KEY)}`,
      `http://127.0.0.1:9090/api/batch/1.0/xml.ashx?apiKey=${encodeURIComponent(KEY)}`,
      `//evil.example/api/batch/1.0/xml.ashx?apiKey=${KEY}`,
    ]) {
      const err = refusal(decide(location));
      const address = redirectAddress(new URL(location, from), KEY);
      expect(err).toMatchObject({ code: 'ISAMS_REDIRECTED', transient: false, kind: 'failed_precondition' });
      expect(err.adminAction).toContain(`iSAMS redirects to ${address}.`);
      expect(err.adminAction).toContain('Settings › Data Input Source');
      expect(err.details).toMatchObject({ httpStatus: 302, redirectsTo: address });
      expect(address).not.toContain('?');
    }
    expect(redirectAddress(new URL('https://h.example/school/api/batch/1.0/xml.ashx?apiKey=k'), KEY)).toBe(
      'https://h.example/school',
    );
    expect(redirectAddress(new URL('https://user:pw@h.example:8443/login?next=1'), KEY)).toBe(
      'https://h.example:8443',
    );
  });

  it('refuses a downgrade from https to http on the same host (the key is never sent unencrypted)', () => {
    const tls = new URL(`https://school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=${KEY}`);
    const err = refusal(
      decide(`http://school.isams.cloud/api/batch/1.0/xml.ashx?apiKey=${KEY}`, 0, 301, tls),
    );
    expect(err.code).toBe('ISAMS_REDIRECTED');
    expect(err.adminAction).toContain('unencrypted address http://school.isams.cloud');
  });

  it(`refuses after ${MAX_REDIRECTS} redirects, and a redirect without a usable Location`, () => {
    expect('follow' in decide('/next', MAX_REDIRECTS - 1)).toBe(true);
    const tooMany = refusal(decide('/next', MAX_REDIRECTS));
    expect(tooMany.message).toContain(`more than ${MAX_REDIRECTS} times`);
    expect(tooMany.adminAction).toBe(ISAMS_ERRORS.ISAMS_REDIRECTED.adminAction);
    expect(refusal(decide(undefined)).code).toBe('ISAMS_REDIRECTED');
    expect(refusal(decide('  ')).code).toBe('ISAMS_REDIRECTED');
    expect(refusal(decide('http://[not an address')).code).toBe('ISAMS_REDIRECTED');
  });

  it.each([301, 302, 303, 307, 308])(
    'a real server answering %i to a path on itself is followed, method and MethodsToRun body kept',
    async (code) => {
      const s = await server([
        (req, res) => {
          res.writeHead(code, { location: `/moved${req.url}` });
          res.end('moved');
        },
        ok,
      ]);
      const events = await run(options(s.url, { methodsToRun: ['Teaching_GetTeachingSets'] }));
      expect(events.at(-1)!.type).toBe('end');
      expect(s.requests).toHaveLength(2);
      expect(s.requests[1]).toMatchObject({ method: 'POST', body: s.requests[0]!.body });
      expect(s.requests[1]!.body).toContain('Teaching_GetTeachingSets');
      expect(new URL(s.requests[1]!.url, s.url).pathname).toBe('/moved/api/batch/1.0/xml.ashx');
    },
  );

  it('a real server redirecting to another host: refused, not retried, and the other host never sees the key', async () => {
    const other = await server([ok]);
    const lines: string[] = [];
    const log = (obj: object, msg?: string) => lines.push(JSON.stringify(obj) + (msg ?? ''));
    const s = await server([
      (req, res) => {
        res.writeHead(307, { location: `http://localhost:${other.port}${req.url}` });
        res.end();
      },
    ]);
    const err = await failure(options(s.url, { logger: { debug: log, info: log, warn: log, error: log } }));
    expect(err.code).toBe('ISAMS_REDIRECTED');
    expect(err.adminAction).toContain(`iSAMS redirects to http://localhost:${other.port}.`);
    expect(s.requests).toHaveLength(1);
    expect(other.requests).toHaveLength(0);
    for (const line of lines) expect(line).not.toContain(KEY.slice(1, -1));
  });

  it(`a real server redirecting to itself forever is refused after ${MAX_REDIRECTS} hops`, async () => {
    const s = await server([
      (req, res) => {
        res.writeHead(302, { location: `/again${req.url}` });
        res.end();
      },
    ]);
    const err = await failure(options(s.url));
    expect(err.code).toBe('ISAMS_REDIRECTED');
    expect(s.requests).toHaveLength(MAX_REDIRECTS + 1);
  });

  it('every hop is checked again: a hop within the host, then one to another host, is refused there', async () => {
    const other = await server([ok]);
    const s = await server([
      (req, res) => {
        res.writeHead(301, { location: `/moved${req.url}` });
        res.end();
      },
      (req, res) => {
        res.writeHead(302, { location: `http://localhost:${other.port}${req.url}` });
        res.end();
      },
    ]);
    const err = await failure(options(s.url));
    expect(err.code).toBe('ISAMS_REDIRECTED');
    expect(err.adminAction).toContain(`iSAMS redirects to http://localhost:${other.port}/moved.`);
    expect(s.requests).toHaveLength(2);
    expect(other.requests).toHaveLength(0);
  });
});

describe('egress proxy', () => {
  it('sends every request through the configured forward proxy', async () => {
    const s = await server([status(503), ok]);
    const proxy = await startForwardProxy();
    cleanups.push(proxy.close);
    const res = await fetchBatch(options(s.url, { proxyUrl: proxy.url }));
    for await (const _ of res.body) void _;
    expect(res.attempts).toBe(2);
    // Keep-alive may reuse one tunnel for both attempts; every tunnel goes to the iSAMS server.
    expect(proxy.seen.length).toBeGreaterThanOrEqual(1);
    expect(new Set(proxy.seen)).toEqual(new Set([`CONNECT 127.0.0.1:${s.port}`]));
    expect(s.requests).toHaveLength(2);
    const events = await run(options(s.url, { proxyUrl: proxy.url }));
    expect(events.at(-1)!.type).toBe('end');
  });

  it('reports a proxy that refuses or is down as ISAMS_PROXY_ERROR', async () => {
    const s = await server([ok]);
    const refusing = await startForwardProxy({ refuse: true });
    cleanups.push(refusing.close);
    const one = { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } };
    expect((await failure(options(s.url, { proxyUrl: refusing.url, ...one }))).code).toBe(
      'ISAMS_PROXY_ERROR',
    );
    const down = await startForwardProxy();
    await down.close();
    expect((await failure(options(s.url, { proxyUrl: down.url, ...one }))).code).toBe('ISAMS_PROXY_ERROR');
    expect(s.requests).toHaveLength(0);
  });
});

describe('a response whose head or framing cannot be read', () => {
  it('response headers over the 16 KB limit: ISAMS_RESPONSE_HEADERS_TOO_LARGE, not retried, not a reset', async () => {
    const s = await server([
      (_q, res) => {
        res.setHeader('set-cookie', `session=${'a'.repeat(100_000)}`);
        ok(_q, res, 0, '');
      },
    ]);
    const err = await failure(options(s.url));
    expect(err).toMatchObject({ code: 'ISAMS_RESPONSE_HEADERS_TOO_LARGE', transient: false });
    expect(err.details).toMatchObject({ errorCode: 'UND_ERR_HEADERS_OVERFLOW' });
    expect(err.message).toMatch(/headers/i);
    expect(err.adminAction).toMatch(/headers/i);
    expect(err.adminAction).toMatch(/cookie/i);
    expect(s.requests).toHaveLength(1);
  });

  it('a body whose length contradicts its Content-Length (sent chunked as well): ISAMS_MALFORMED_DOCUMENT, not retried, not a reset', async () => {
    const s = await server([
      (_q, res) => {
        const doc = sample.slice(0, 2000);
        res.socket!.end(
          'HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n' +
            `${Buffer.byteLength(doc).toString(16)}\r\n${doc}\r\n0\r\n\r\n`,
        );
      },
    ]);
    const err = await failure(options(s.url));
    expect(err).toMatchObject({ code: 'ISAMS_MALFORMED_DOCUMENT', transient: false });
    expect(err.details).toMatchObject({ errorCode: 'UND_ERR_RES_CONTENT_LENGTH_MISMATCH' });
    expect(err.message).toMatch(/Content-Length/);
    expect(s.requests).toHaveLength(1);
  });
  it.each([
    ['a status line that is not HTTP', 'garbage garbage\r\n\r\n'],
    ['a header name with a space', 'HTTP/1.1 200 OK\r\nBad Header: x\r\nContent-Length: 2\r\n\r\nok'],
    [
      'a chunk size that is not hex, after the first chunk',
      `HTTP/1.1 200 OK\r\nContent-Type: text/xml\r\nTransfer-Encoding: chunked\r\n\r\n10\r\n${sample.slice(0, 16)}\r\nzz\r\n`,
    ],
  ])(
    'a response that is not HTTP (%s): ISAMS_MALFORMED_DOCUMENT naming the parser error, not retried, not a reset',
    async (_name, response) => {
      const s = await server([(_q, res) => res.socket!.end(response)]);
      const err = await failure(options(s.url));
      expect(err).toMatchObject({ code: 'ISAMS_MALFORMED_DOCUMENT', transient: false });
      expect(err.details).toMatchObject({ errorCode: 'HTTPParserError' });
      expect(err.message).toMatch(/could not be read as HTTP \(.+\)/);
      expect(err.adminAction).toMatch(/HTTP/);
      expect(s.requests).toHaveLength(1);
    },
  );
});

describe('a host that stalls or answers slowly', () => {
  const once = { retry: { maxAttempts: 1, baseDelayMs: 1, maxDelayMs: 1 } };

  it('response headers that trickle in and never end: ISAMS_TIMEOUT', async () => {
    const s = await server([
      (_q, res) => {
        res.socket!.write('HTTP/1.1 200 OK\r\n');
        const drip = setInterval(
          () => (res.socket!.destroyed ? clearInterval(drip) : res.socket!.write('X')),
          20,
        );
      },
    ]);
    const err = await failure(options(s.url, { readTimeoutMs: 200, totalTimeoutMs: 1000, ...once }));
    expect(err).toMatchObject({ code: 'ISAMS_TIMEOUT', transient: true });
  });

  it('a TLS handshake the server never answers: ISAMS_TIMEOUT while connecting', async () => {
    const silent = await startSilentServer();
    cleanups.push(silent.close);
    const err = await failure(
      options(`https://127.0.0.1:${silent.port}`, { connectTimeoutMs: 200, ...once }),
    );
    expect(err).toMatchObject({ code: 'ISAMS_TIMEOUT', details: { errorCode: 'UND_ERR_CONNECT_TIMEOUT' } });
  });

  it('informational 103 Early Hints before the response are passed over', async () => {
    const s = await server([
      (_q, res) => {
        res.writeEarlyHints({ link: '</style.css>; rel=preload; as=style' });
        ok(_q, res, 0, '');
      },
    ]);
    expect((await run(options(s.url))).at(-1)).toMatchObject({ type: 'end', absent: [] });
  });
});
