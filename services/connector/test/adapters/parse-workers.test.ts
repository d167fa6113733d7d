/**
 * The connector's parse workers give what the parse on the connector's thread gives — the same
 * events in the same order, the same errors — while bounding what waits between the two threads.
 * Real worker threads (the TypeScript module under tsx, as in development).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ISAMS_MESSAGES, IsamsError, renderMessageDocument } from '@isams-sync/isams';
import type { StreamBatchOptions } from '@isams-sync/isams';
import { parseIntoLines, toLineEvents } from '../../src/adapters/isams/line-events';
import type { LineEvent } from '../../src/adapters/isams/line-events';
import {
  BATCHES_AHEAD,
  INPUT_CHUNKS_AHEAD,
  ParseWorkerPool,
  fromWire,
} from '../../src/adapters/isams/parse-workers';

const pupil = (i: number) =>
  `<Pupil Id="${i}" SchoolId="P${i}"><Forename>Zoë ${i} &amp; “Ann”</Forename><Surname>Ó'Brien-${i}</Surname>` +
  `<Contacts><Contact Id="c${i}" Relationship="Mother"/></Contacts></Pupil>`;
const xmlDocument = (pupils: number) =>
  '<?xml version="1.0" encoding="utf-8"?>\n<iSAMS>' +
  `<PupilManager><CurrentPupils>${Array.from({ length: pupils }, (_, i) => pupil(i + 1)).join('')}</CurrentPupils></PupilManager>` +
  '<HRManager><CurrentStaff><StaffMember Id="s1" Initials="AB"><Forename>Alex</Forename></StaffMember>' +
  '<StaffMember Id="s2"/></CurrentStaff></HRManager>' +
  // A second container of pupils (a finding) and a container that is none of ours.
  `<PupilManager><CurrentPupils>${pupil(pupils + 1)}</CurrentPupils><Siblings/></PupilManager>` +
  '</iSAMS>';
const jsonDocument = (pupils: number) =>
  JSON.stringify({
    iSAMS: {
      PupilManager: {
        CurrentPupils: {
          Pupil: Array.from({ length: pupils }, (_, i) => ({
            '@Id': String(i + 1),
            Forename: `Zoë ${i} “Ann”`,
            Surname: `Ó'Brien-${i}`,
          })),
        },
      },
      HRManager: { CurrentStaff: { StaffMember: [{ '@Id': 's1', Forename: 'Alex' }] } },
    },
  });

async function* chunked(text: string, size: number): AsyncGenerator<Uint8Array> {
  const bytes = Buffer.from(text, 'utf8');
  for (let i = 0; i < bytes.length; i += size) yield bytes.subarray(i, i + size);
}

/** The events of a parse, flattened, or the error it threw after them. */
async function eventsOf(
  batches: AsyncIterable<readonly LineEvent[]>,
): Promise<{ events: LineEvent[]; error?: unknown }> {
  const events: LineEvent[] = [];
  try {
    for await (const b of batches) events.push(...b);
    return { events };
  } catch (error) {
    return { events, error };
  }
}

/**
 * Runs of records merged, so batchings that differ only in where a run was cut compare equal (and
 * their lines as Buffers, whichever thread made them).
 */
function normalised(events: readonly LineEvent[]): LineEvent[] {
  const out: LineEvent[] = [];
  for (const ev of events) {
    const last = out.at(-1);
    if (ev.type !== 'records') out.push(ev);
    else if (last?.type === 'records' && last.datasetId === ev.datasetId) {
      out[out.length - 1] = {
        ...last,
        lines: Buffer.concat([last.lines, ev.lines]),
        sizes: [...last.sizes, ...ev.sizes],
      };
    } else out.push({ ...ev, lines: Buffer.from(ev.lines) });
  }
  return out;
}

const XML: StreamBatchOptions = { format: 'xml' };

let pool: ParseWorkerPool;
beforeAll(() => {
  pool = new ParseWorkerPool(2);
});
afterAll(async () => {
  await pool.close();
});

describe('parse workers: what the parse on this thread gives', () => {
  it('toLineEvents: records as canonical lines, each run of one dataset together, sizes in UTF-8 bytes', () => {
    const raw = { name: 'Pupil', attributes: { b: '2', a: 'é' }, children: [] };
    const events = toLineEvents([
      { type: 'dataset', datasetId: 'currentPupils', present: true, occurrence: 1 },
      { type: 'record', datasetId: 'currentPupils', raw },
      { type: 'record', datasetId: 'currentPupils', raw },
      { type: 'dataset-end', datasetId: 'currentPupils', count: 2, total: 2 },
    ]);
    const line = '{"name":"Pupil","attributes":{"a":"é","b":"2"},"children":[]}';
    expect(events).toEqual([
      { type: 'dataset', datasetId: 'currentPupils', present: true, occurrence: 1 },
      {
        type: 'records',
        datasetId: 'currentPupils',
        lines: new TextEncoder().encode(`${line}\n${line}\n`),
        sizes: [line.length + 1, line.length + 1],
      },
      { type: 'dataset-end', datasetId: 'currentPupils', count: 2, total: 2 },
    ]);
  });

  it('toLineEvents: a batch that failed part-way leaves nothing behind in the next one', () => {
    const good = { name: 'Pupil', attributes: { Id: '1' }, children: [] };
    // Not a RawElement (no children): its line fails after the good record's was written.
    const broken = { name: 'Pupil', attributes: { Id: '2' } } as unknown as typeof good;
    expect(() =>
      toLineEvents([
        { type: 'record', datasetId: 'currentPupils', raw: good },
        { type: 'record', datasetId: 'currentPupils', raw: broken },
      ]),
    ).toThrow(TypeError);
    const [block] = toLineEvents([{ type: 'record', datasetId: 'contacts', raw: good }]);
    const line = '{"name":"Pupil","attributes":{"Id":"1"},"children":[]}';
    expect(block).toEqual({
      type: 'records',
      datasetId: 'contacts',
      lines: new TextEncoder().encode(`${line}\n`),
      sizes: [line.length],
    });
  });

  it.each([
    ['XML, network-sized chunks', xmlDocument(3_000), 'xml', 16 * 1024],
    ['XML, chunks cutting characters apart', xmlDocument(300), 'xml', 7],
    ['JSON', jsonDocument(2_000), 'json', 4096],
  ] as const)('%s: the same events as the parse on this thread', async (_name, doc, format, size) => {
    const here = await eventsOf(parseIntoLines(chunked(doc, size), { format }));
    const there = await eventsOf(pool.parse(chunked(doc, size), { format }));
    expect(here.error).toBeUndefined();
    expect(there.error).toBeUndefined();
    expect(normalised(there.events)).toEqual(normalised(here.events));
    expect(there.events.at(-1)?.type).toBe('end');
    const records = there.events.reduce((n, e) => n + (e.type === 'records' ? e.sizes.length : 0), 0);
    expect(records).toBeGreaterThan(format === 'xml' ? (size === 7 ? 300 : 3_000) : 2_000);
  });

  it.each([
    ['cut off mid-way', xmlDocument(500).slice(0, 20_000), 'ISAMS_TRUNCATED_DOCUMENT'],
    [
      'not well-formed',
      xmlDocument(500).replace('<Pupil Id="250"', '<Pupil Id=250'),
      'ISAMS_MALFORMED_DOCUMENT',
    ],
    ['an iSAMS error document', renderMessageDocument(ISAMS_MESSAGES.invalidApiKey), 'ISAMS_INVALID_KEY'],
    // Transient: `transient` crosses too.
    ['an iSAMS deadlock', renderMessageDocument(ISAMS_MESSAGES.deadlock), 'ISAMS_SERVER_BUSY'],
  ])('a document %s: the same IsamsError, after the same records', async (_name, doc, code) => {
    const here = await eventsOf(parseIntoLines(chunked(doc, 4096), XML));
    const there = await eventsOf(pool.parse(chunked(doc, 4096), XML));
    expect(here.error).toBeInstanceOf(IsamsError);
    expect(there.error).toBeInstanceOf(IsamsError);
    const [a, b] = [here.error as IsamsError, there.error as IsamsError];
    expect(b.code).toBe(code);
    expect({
      code: b.code,
      message: b.message,
      transient: b.transient,
      adminAction: b.adminAction,
      details: b.details,
    }).toEqual({
      code: a.code,
      message: a.message,
      transient: a.transient,
      adminAction: a.adminAction,
      details: a.details,
    });
    expect(normalised(there.events)).toEqual(normalised(here.events));
  });

  it('a parser limit crosses as the same error', async () => {
    const opts: StreamBatchOptions = { format: 'xml', limits: { maxRecordsPerDataset: 10 } };
    const there = await eventsOf(pool.parse(chunked(xmlDocument(100), 1024), opts));
    expect((there.error as IsamsError).code).toBe('ISAMS_TOO_MANY_RECORDS');
  });

  it('an error the connector’s thread does not know as an iSAMS code crosses as a plain error, never a made-up code', () => {
    const unknown = fromWire({
      kind: 'isams',
      code: 'ISAMS_FROM_ANOTHER_VERSION',
      message: 'a code this build does not have',
      transient: true,
      adminAction: 'none',
    });
    expect(unknown).not.toBeInstanceOf(IsamsError);
    expect(unknown.message).toBe('a code this build does not have');
    const other = fromWire({
      kind: 'other',
      name: 'RangeError',
      message: 'too big',
      stack: 'RangeError: too big\n    at here',
    });
    expect(other).not.toBeInstanceOf(IsamsError);
    expect([other.name, other.message, other.stack]).toEqual([
      'RangeError',
      'too big',
      'RangeError: too big\n    at here',
    ]);
  });
});

describe('parse workers: the input, the reader and the workers', () => {
  it('the input’s own failure is thrown unchanged, after the records read before it', async () => {
    const failure = new Error('socket hang up');
    async function* failing(): AsyncGenerator<Uint8Array> {
      yield* chunked(xmlDocument(200).slice(0, 10_000), 1000);
      throw failure;
    }
    const there = await eventsOf(pool.parse(failing(), XML));
    expect(there.error).toBe(failure);
    expect(there.events.some((e) => e.type === 'records')).toBe(true);
  });

  it('a reader that gives up stops the input, and the worker goes on with other documents', async () => {
    let pulled = 0;
    let returned = false;
    async function* endless(): AsyncGenerator<Uint8Array> {
      try {
        yield Buffer.from('<?xml version="1.0"?><iSAMS><PupilManager><CurrentPupils>');
        for (let i = 1; ; i++) {
          pulled += 1;
          yield Buffer.from(pupil(i).repeat(1));
        }
      } finally {
        returned = true;
      }
    }
    for await (const batch of pool.parse(endless(), XML)) {
      if (batch.some((e) => e.type === 'records')) break;
    }
    await expect.poll(() => returned).toBe(true);
    expect(pulled).toBeLessThan(1_000);
    const after = await eventsOf(pool.parse(chunked(xmlDocument(50), 512), XML));
    expect(after.error).toBeUndefined();
  });

  it('a reader that does not read holds the input: a bounded number of chunks are pulled', async () => {
    let pulled = 0;
    async function* endless(): AsyncGenerator<Uint8Array> {
      yield Buffer.from('<?xml version="1.0"?><iSAMS><PupilManager><CurrentPupils>');
      for (let i = 1; ; i++) {
        pulled += 1;
        yield Buffer.from(pupil(i));
      }
    }
    const it = pool.parse(endless(), XML)[Symbol.asyncIterator]();
    await it.next();
    // Time for the pump and the worker to run as far ahead as they may.
    await new Promise((r) => setTimeout(r, 300));
    const held = pulled;
    await new Promise((r) => setTimeout(r, 200));
    expect(pulled).toBe(held);
    // Chunks waiting in the worker, batches posted and one parsed ahead per batch.
    expect(held).toBeLessThanOrEqual(INPUT_CHUNKS_AHEAD + BATCHES_AHEAD + 3);
    await it.return?.();
  });

  it('documents parsed at once on one worker do not mix', async () => {
    const single = new ParseWorkerPool(1);
    try {
      const docs = [xmlDocument(800), xmlDocument(1_200), xmlDocument(400)];
      const results = await Promise.all(docs.map((d) => eventsOf(single.parse(chunked(d, 2048), XML))));
      const expected = await Promise.all(docs.map((d) => eventsOf(parseIntoLines(chunked(d, 2048), XML))));
      for (let i = 0; i < docs.length; i++)
        expect(normalised(results[i]!.events)).toEqual(normalised(expected[i]!.events));
    } finally {
      await single.close();
    }
  });

  it('a worker that stops fails the documents it was parsing and is replaced for the next one', async () => {
    const single = new ParseWorkerPool(1);
    try {
      async function* slow(): AsyncGenerator<Uint8Array> {
        yield Buffer.from('<?xml version="1.0"?><iSAMS><PupilManager><CurrentPupils>');
        for (let i = 1; i < 100; i++) {
          yield Buffer.from(pupil(i));
          await new Promise((r) => setTimeout(r, 20));
        }
      }
      const parsing = eventsOf(single.parse(slow(), XML));
      await new Promise((r) => setTimeout(r, 100));
      // The pool's one worker, as a crash (an out-of-memory end) would stop it.
      const workers = (single as unknown as { workers: { worker: { terminate(): Promise<number> } }[] })
        .workers;
      await workers[0]!.worker.terminate();
      const failed = await parsing;
      expect(String((failed.error as Error).message)).toMatch(/parse worker stopped/);
      // Not restarted on its own (a worker that cannot start is not restarted in a loop) …
      expect((single as unknown as { workers: { gone: boolean }[] }).workers[0]!.gone).toBe(true);
      // … but for the next document.
      const after = await eventsOf(single.parse(chunked(xmlDocument(20), 512), XML));
      expect(after.error).toBeUndefined();
      expect(after.events.at(-1)?.type).toBe('end');
    } finally {
      await single.close();
    }
  });
});
