import { describe, expect, it, vi } from 'vitest';
import type { BatchParseEvent, StreamBatchOptions } from '../src/parser/parse-events';
import { streamBatchDocument, streamBatchDocumentBatches } from '../src/parser/stream-batch-document';
import { fixture } from './helpers';

type Piece = string | Uint8Array;

async function* pieces(list: Piece[]): AsyncGenerator<Piece> {
  for (const p of list) yield p;
}

/** Every event, and the error the parse ended with (if any). */
async function run(
  list: Piece[],
  limits?: StreamBatchOptions['limits'],
): Promise<{ events: BatchParseEvent[]; error?: { code: string; message: string; details?: unknown } }> {
  const events: BatchParseEvent[] = [];
  try {
    for await (const e of streamBatchDocument(pieces(list), {
      format: 'json',
      ...(limits ? { limits } : {}),
    }))
      events.push(e);
    return { events };
  } catch (err) {
    return { events, error: err as { code: string; message: string; details?: unknown } };
  }
}

/** What `d` reads as in one piece (with no error), checked to read the same in 1-character pieces. */
async function readWholeAndWalked(d: string): ReturnType<typeof run> {
  const whole = await run([d]);
  expect(whole.error).toBeUndefined();
  expect(await run([...d])).toEqual(whole);
  return whole;
}

/** The document cut in two at character `at`. */
const cutAt = (doc: string, at: number): string[] => [doc.slice(0, at), doc.slice(at)];

// Escapes next to quotes (`\\`, `\"`, `\\\"`), a `\u` escape, non-ASCII text, numbers (kept as
// source text), empty and nested values, a row given as a single object and rows in an array.
const tricky = JSON.stringify({
  '?xml': { '@version': '1.0' },
  iSAMS: {
    PupilManager: {
      CurrentPupils: {
        Pupil: [
          { '@Id': '1', Forename: 'Zoë \\', Surname: 'O"Brien \\"x', Notes: { '#text': '[{a}]' } },
          { '@Id': '2', Forename: 'Ünïcode ✓ 😀', Empty: null, List: { Item: ['a', 'b'] } },
        ],
      },
    },
    HRManager: { CurrentStaff: { StaffMember: { '@Id': 3 } } },
  },
}).replace('"@Id":3', '"@Id":12345678901234567890.50');

describe('JSON reader: tokens split across chunk boundaries', () => {
  it('gives the same events wherever a small document is cut (every character position)', async () => {
    const whole = await run([tricky]);
    expect(whole.error).toBeUndefined();
    const records = whole.events.filter((e) => e.type === 'record');
    expect(records).toHaveLength(3);
    expect(records[2]).toMatchObject({ raw: { attributes: { Id: '12345678901234567890.50' } } });
    expect(records[0]).toMatchObject({
      raw: {
        children: expect.arrayContaining([
          { name: 'Surname', attributes: {}, text: 'O"Brien \\"x', children: [] },
        ]),
      },
    });
    for (let at = 1; at < tricky.length; at++) {
      // Not between the two halves of 😀 (string input counts a lone surrogate as 3 bytes).
      if (/[\uD800-\uDBFF]/.test(tricky[at - 1]!)) continue;
      const split = await run(cutAt(tricky, at));
      expect(split, `cut at ${at}`).toEqual(whole);
    }
  });

  it('gives the same events wherever the bytes are cut (inside multi-byte characters too) and in 1-character pieces', async () => {
    const whole = await run([tricky]);
    const bytes = Buffer.from(tricky, 'utf8');
    for (let at = 1; at < bytes.length; at++) {
      expect(await run([bytes.subarray(0, at), bytes.subarray(at)]), `byte ${at}`).toEqual(whole);
    }
    expect(await run([...tricky])).toEqual(whole);
    const sketch = fixture('reference-sketch.json');
    const sketchWhole = await run([sketch]);
    expect(sketchWhole.error).toBeUndefined();
    for (let at = 1; at < sketch.length; at++) expect(await run(cutAt(sketch, at))).toEqual(sketchWhole);
  });
});

describe('JSON reader: malformed documents name the character where they go wrong', () => {
  const row = (r: string) => `{"iSAMS":{"PupilManager":{"CurrentPupils":{"Pupil":[${r}]}}}}`;
  const prefix = row('').indexOf('[') + 1; // where the first row starts
  const cases: [string, string, number][] = [
    // In the envelope (read by the reader's scanner).
    ['{"iSAMS":{]}', "unexpected ']'", 10],
    ['{"iSAMS":{}} x', 'data after the end of the document', 13],
    ['[1,2]', 'the document is not a JSON object', 0],
    ['{"a" "b"}', 'unexpected value', 5],
    ['{"iSAMS":{"A":[1,]}}', "unexpected ']'", 17],
    ['{"iSAMS":{"A":1,}}', "unexpected '}'", 16],
    ['{"iSAMS":{"A":tru}}', 'not true, false, null, a number or a string', 14],
    ['{"iSAMS":{"A":01}}', 'not true, false, null, a number or a string', 14],
    ['{"iSAMS":{"A":"x\\qy"}}', 'Bad escaped character', 14 + 3],
    ['{"iSAMS":{"A":@}}', "unexpected character '@'", 14],
    // Inside a row (checked by JSON.parse; positions are the document's).
    [row('{"@Id":"1","a":1 x}'), "Expected ',' or '}' after property value", prefix + 17],
    [row('{"@Id":"1","a" 1}'), "Expected ':' after property name", prefix + 15],
    [row('{"@Id":"1","a":"x\ny"}'), 'Bad control character in string literal', prefix + 17],
    [row('{"@Id":"1","a":[}'), "unexpected '}'", prefix + 16],
    [row('{"@Id":"1","a":[1,]}'), "unexpected ']' in the value that starts", prefix],
  ];

  for (const [doc, reason, position] of cases) {
    it(`${JSON.stringify(doc.slice(-24))} → ${reason} at ${position}, however it is cut`, async () => {
      for (const list of [[doc], [...doc], cutAt(doc, Math.floor(doc.length / 2))]) {
        const { events, error } = await run(list);
        expect(error?.code).toBe('ISAMS_MALFORMED_DOCUMENT');
        expect(error?.message).toContain(reason);
        expect(error?.message).toContain(`at character ${position}`);
        expect(error?.details).toMatchObject({ position });
        expect(events.some((e) => e.type === 'end')).toBe(false);
      }
    });
  }

  it('never quotes the row (personal data) in the error, even where V8 would', async () => {
    const { error } = await run([row('{"@Id":"1","Forename":"Secretname","a":[1,]}')]);
    expect(error?.code).toBe('ISAMS_MALFORMED_DOCUMENT');
    expect(error?.message).not.toContain('Secretname');
    expect(JSON.stringify(error?.details)).not.toContain('Secretname');
  });
});

describe('JSON reader: limits apply inside and outside rows', () => {
  it('deep nesting outside any dataset → ISAMS_DOCUMENT_TOO_DEEP without a dataset', async () => {
    const doc = `{"iSAMS":{"Other":${'['.repeat(100)}${']'.repeat(100)}}}`;
    const { error } = await run([doc]);
    expect(error?.code).toBe('ISAMS_DOCUMENT_TOO_DEEP');
    expect(error?.details).toEqual({ limit: 64 });
  });

  it('nesting counts the envelope and the row together (the row is level 6: 58 more fit in 64)', async () => {
    const row = (n: number) =>
      `{"iSAMS":{"PupilManager":{"CurrentPupils":{"Pupil":[{"@Id":"1","D":${'['.repeat(n)}${']'.repeat(n)}}]}}}}`;
    // root, iSAMS, module, container, row list, row = 6 levels, so 58 more fit in 64.
    expect((await run([row(58)])).error).toBeUndefined();
    expect((await run([row(59)])).error?.code).toBe('ISAMS_DOCUMENT_TOO_DEEP');
  });

  it("a row's text over the limit → ISAMS_RECORD_TOO_LARGE naming the dataset, however it is cut", async () => {
    const doc = `{"iSAMS":{"PupilManager":{"CurrentPupils":{"Pupil":{"@Id":"1","F":"${'y'.repeat(3000)}"}}}}}`;
    for (const list of [[doc], cutAt(doc, 100), cutAt(doc, 2000)]) {
      const { error } = await run(list, { maxRecordBytes: 2000 });
      expect(error?.code).toBe('ISAMS_RECORD_TOO_LARGE');
      expect(error?.details).toEqual({ limit: 2000, datasetId: 'currentPupils' });
    }
  });

  it('a `__proto__` key in a row is an ordinary child element', async () => {
    const doc = '{"iSAMS":{"PupilManager":{"CurrentPupils":{"Pupil":{"@Id":"1","__proto__":{"x":"1"}}}}}}';
    const { events, error } = await run([doc]);
    expect(error).toBeUndefined();
    const rec = events.find((e) => e.type === 'record');
    expect(rec).toMatchObject({
      raw: { children: [{ name: '__proto__', children: [{ name: 'x', text: '1' }] }] },
    });
  });
});

/** A document whose current pupils are `rows` (JSON texts), in one row list. */
/** How many times `JSON.parse` is given text holding a row (`"@Id"`) while `read` runs. */
async function rowParses(read: () => Promise<unknown>): Promise<number> {
  const parse = vi.spyOn(JSON, 'parse');
  try {
    await read();
    return parse.mock.calls.filter(([text]) => String(text).includes('"@Id"')).length;
  } finally {
    parse.mockRestore();
  }
}

const doc = (rows: string[]) => `{"iSAMS":{"PupilManager":{"CurrentPupils":{"Pupil":[${rows.join(',')}]}}}}`;

describe('JSON reader: rows read whole by JSON.parse give the same result as the character walk', () => {
  // One piece lets the reader find a row's end by counting brackets and confirm it with JSON.parse;
  // 1-character pieces force the character-by-character walk. Both must agree on every document.
  const texts = (events: BatchParseEvent[]) =>
    events.flatMap((e) => (e.type === 'record' ? [e.raw.children.map((c) => c.text ?? '')] : []));

  it('brackets inside strings (misleading the count either way), escaped quotes and backslashes, nested arrays and numbers', async () => {
    const rows = [
      '{"@Id":"1","A":"}","B":"x"}',
      '{"@Id":"2","A":"{","B":"]]]"}',
      '{"@Id":"3","A":"a\\"}","B":"\\\\"}',
      '{"@Id":"4","A":"\\\\\\"{[","B":"z"}',
      '{"@Id":"5","L":{"I":[["a",["b"]],{"c":"}"}]}}',
      '{"@Id":"6","N":1.50,"M":"{"}',
      '{"@Id":"7","A":"after"}',
    ];
    const d = doc(rows);
    const whole = await readWholeAndWalked(d);
    expect(texts(whole.events)).toEqual([
      ['}', 'x'],
      ['{', ']]]'],
      ['a"}', '\\'],
      ['\\"{[', 'z'],
      [''],
      ['1.50', '{'],
      ['after'],
    ]);
    for (let at = 1; at < d.length; at++) expect(await run(cutAt(d, at)), `cut at ${at}`).toEqual(whole);
  });

  it('a row cut across 64 KiB pieces of one write inside an escape, or just before its closing quote', async () => {
    const start = doc(['']).indexOf('[') + 1;
    for (const [escape, text] of [
      ['\\"', '"'],
      ['\\\\', '\\'],
      ['\\u00e9', 'é'],
    ] as const) {
      for (let shift = 0; shift <= escape.length + 1; shift++) {
        // The escape's first character is `shift` characters before the 65,536th.
        const head = '{"@Id":"1","F":"';
        const pad = 'p'.repeat(64 * 1024 - start - head.length - escape.length + shift);
        const d = doc([`${head}${pad}${escape}"}`, '{"@Id":"2","F":"q"}']);
        const { events, error } = await run([d]);
        expect(error).toBeUndefined();
        expect(texts(events)).toEqual(
          [
            ['1', pad + text],
            ['2', 'q'],
          ].map(([, f]) => [f]),
        );
      }
    }
  });

  it('the limits hold when strings mislead the bracket count', async () => {
    // Closing brackets inside a string hide the row's real depth from the count.
    const deep = doc([`{"@Id":"1","A":"${']'.repeat(20)}","D":${'['.repeat(10)}${']'.repeat(10)}}`]);
    // …and here the count balances at the row's real end: 7 levels counted, 8 real (12 - 5 allowed).
    const balanced = doc(['{"@Id":"1","a":{"A":"]","D":[[[[[[]]]]]],"B":"["}}']);
    for (const list of [[deep], [...deep], [balanced], [...balanced]]) {
      const { error } = await run(list, { maxDepth: 12 });
      expect(error?.code).toBe('ISAMS_DOCUMENT_TOO_DEEP');
      expect(error?.details).toEqual({ limit: 12, datasetId: 'currentPupils' });
    }
    // Opening brackets inside a string are not nesting.
    const shallow = doc([`{"@Id":"1","A":"${'['.repeat(20)}"}`]);
    for (const list of [[shallow], [...shallow]])
      expect((await run(list, { maxDepth: 12 })).error).toBeUndefined();
    // Its text fits, but its values count more (16 characters each, the name repeated per item).
    const wide = doc([`{"@Id":"1","Item":[${Array(100).fill('null').join(',')}]}`]);
    for (const list of [[wide], [...wide]]) {
      const { error } = await run(list, { maxRecordBytes: 2000 });
      expect(error?.code).toBe('ISAMS_RECORD_TOO_LARGE');
      expect(error?.details).toEqual({ limit: 2000, datasetId: 'currentPupils' });
    }
  });

  it('malformed rows are refused at the same character however the document is cut', async () => {
    const prefix = doc(['']).indexOf('[') + 1;
    const good = '{"@Id":"1","A":"}"}';
    for (const [bad, reason, at] of [
      ['{"@Id":"2","a":[1,]}', "unexpected ']' in the value that starts", 0],
      ['{"@Id":"2","a":"x\\q}"}', 'Bad escaped character', 18],
      ['{"@Id":"2","a":01}', 'Unexpected number', 16],
      ['{"@Id":"2","a":"x",}', 'Expected double-quoted property name', 19],
    ] as const) {
      const d = doc([good, bad]);
      const position = prefix + good.length + 1 + at;
      for (const list of [[d], [...d], cutAt(d, prefix + 5)]) {
        const { error } = await run(list);
        expect(error?.code).toBe('ISAMS_MALFORMED_DOCUMENT');
        expect(error?.message).toContain(reason);
        expect(error?.details).toMatchObject({ position });
      }
    }
  });
});

describe('JSON reader: the rows of a chunk, parsed and mapped together, read as walked', () => {
  it('numbers, and attributes or texts given as arrays or objects, read the same in one piece as walked', async () => {
    const rows = [
      '{"@Id":12345678901234567890,"A":"x"}',
      '{"@Id":"2","T":{"#text":1.50}}',
      '{"@Id":"3","@Meta":{"v":1.0,"w":["a",2e3]}}',
      '{"@Id":"4","T":{"#text":["a",true,null,"b"]}}',
      '{"@Id":"5","L":{"I":[["a"],{"#text":0.10}]}}',
      '{"@Id":"6","Flag":true,"None":null,"Empty":""}',
    ];
    const whole = await readWholeAndWalked(doc(rows));
    const raws = whole.events.flatMap((e) => (e.type === 'record' ? [e.raw] : []));
    expect(raws.map((r) => r.attributes)).toEqual([
      { Id: '12345678901234567890' },
      { Id: '2' },
      { Id: '3', Meta: '{"v":"1.0","w":["a","2e3"]}' },
      { Id: '4' },
      { Id: '5' },
      { Id: '6' },
    ]);
    expect(raws[1]!.children[0]!.text).toBe('1.50');
    expect(raws[3]!.children[0]!.text).toBe('atrueb');
    expect(raws[4]!.children[0]!.children.map((c) => c.children[0]?.text ?? c.text)).toEqual(['a', '0.10']);
    expect(raws[5]!.children.map((c) => [c.name, c.text])).toEqual([
      ['Flag', 'true'],
      ['None', undefined],
      ['Empty', undefined],
    ]);
  });

  it('the depth limit falls at the same level in one piece as walked, arrays counting as levels', async () => {
    // `]` in a string lowers the bracket count, so only the mapping of the parsed row can see the
    // real depth: rows of every depth around the limit, nested as arrays and as objects.
    for (const [open, close] of [
      ['[', ']'],
      ['{"a":', '}'],
      ['{"a":[', ']}'],
    ] as const) {
      for (let n = 1; n <= 8; n++) {
        const d = doc([`{"@Id":"1","S":"${']'.repeat(20)}","D":${open.repeat(n)}"x"${close.repeat(n)}}`]);
        // (Events before an error may come in fewer batches; the records and the error must agree.)
        const outcome = ({ events, error }: Awaited<ReturnType<typeof run>>) => ({
          error,
          records: events.filter((e) => e.type === 'record'),
        });
        const whole = outcome(await run([d], { maxDepth: 12 }));
        expect(outcome(await run([...d], { maxDepth: 12 })), `${open} × ${n}`).toEqual(whole);
        if (n === 1) expect(whole.error).toBeUndefined();
        if (n === 8) expect(whole.error?.code).toBe('ISAMS_DOCUMENT_TOO_DEEP');
      }
    }
  });

  it('the rows of a list in one piece are parsed together, whatever strings and values are among them', async () => {
    // (Records already read when the document fails are discarded, and how many of them were
    // handed on depends on the pieces: an error is compared alone.)
    const outcome = ({ events, error }: Awaited<ReturnType<typeof run>>) =>
      error ?? events.filter((e) => e.type === 'record');
    const plain = Array.from({ length: 50 }, (_, i) => `{"@Id":"${i}","F":"n${i}"}`);
    // What each list gives: its records' ids and first texts, or the error's code.
    const lists: [string, string[], string[] | string, StreamBatchOptions['limits']?][] = [
      ['plain rows', plain, plain.map((_, i) => `${i} n${i}`)],
      ['pretty-printed rows', plain.map((r) => `\n    ${r}`), plain.map((_, i) => `${i} n${i}`)],
      // The count ends a row inside a string ("},{") and runs on past another ("{"): three real
      // rows, three counted ones, at the wrong places; the parse still gives the real rows.
      [
        'strings that shift the row ends',
        ['{"@Id":"1","a":"},{"}', '{"@Id":"2","b":"{"}', '{"@Id":"3","c":"}"}'],
        ['1 },{', '2 {', '3 }'],
      ],
      [
        'a scalar and an array among the rows (each a record without identity)',
        ['{"@Id":"1"}', '"loose"', '{"@Id":"2"}', '["x"]', '{"@Id":"3"}'],
        ['1 ', 'undefined loose', '2 ', 'undefined x', '3 '],
      ],
      [
        'a number in a middle row',
        ['{"@Id":"1"}', '{"@Id":"2","N":0.50}', '{"@Id":"3"}'],
        ['1 ', '2 0.50', '3 '],
      ],
      [
        'a middle row that counts over the record size (its text does not)',
        ['{"@Id":"1"}', `{"@Id":"2","L":[${'null,'.repeat(20)}null]}`, '{"@Id":"3"}'],
        'ISAMS_RECORD_TOO_LARGE',
        { maxRecordBytes: 300 },
      ],
      ['more rows than the dataset may have', plain, 'ISAMS_TOO_MANY_RECORDS', { maxRecordsPerDataset: 20 }],
    ];
    for (const [what, rows, expected, limits] of lists) {
      const d = doc(rows);
      const whole = await run([d], limits);
      expect(outcome(await run([...d], limits)), what).toEqual(outcome(whole));
      if (typeof expected === 'string') expect(whole.error?.code, what).toBe(expected);
      else {
        expect(whole.error, what).toBeUndefined();
        const got = whole.events.flatMap((e) =>
          e.type === 'record'
            ? [`${e.raw.attributes.Id} ${e.raw.text ?? e.raw.children[0]?.text ?? ''}`]
            : [],
        );
        expect(got, what).toEqual(expected);
      }
    }
    // Fifty rows in one piece: a handful of parses (the envelope's keys, the rows), not one per row.
    const parse = vi.spyOn(JSON, 'parse');
    try {
      const { events, error } = await run([doc(plain)]);
      expect(error).toBeUndefined();
      expect(events.filter((e) => e.type === 'record')).toHaveLength(50);
      expect(parse.mock.calls.length).toBeLessThan(10);
    } finally {
      parse.mockRestore();
    }
  });
});

describe('JSON reader: values of every kind, mapped after one parse of the rows, read as walked', () => {
  it('lists inside lists, and every kind of value without numbers, read the same in one piece as walked', async () => {
    const rows = [
      '{"@Id":"1","L":{"I":[["a",["b",null]],{"x":"y"},[],""]}}',
      '{"@Id":"2","T":true,"F":false,"N":null,"E":"","W":" ","O":{},"A":[]}',
      '{"@Id":"3","@B":false,"@N":null,"@E":"","#text":"t","#comment":"c","?pi":"p","K":{"#text":"u","@X":"v"}}',
    ];
    const d = doc(rows);
    // Read the fast way: the three rows by one parse.
    expect(await rowParses(() => run([d]))).toBe(1);
    const whole = await readWholeAndWalked(d);
    const raws = whole.events.flatMap((e) => (e.type === 'record' ? [e.raw] : []));
    expect(raws[0]!.children[0]!.children.map((c) => [c.text, c.children.length])).toEqual([
      [undefined, 2],
      [undefined, 1],
      [undefined, 0],
      [undefined, 0],
    ]);
    expect(raws[1]!.children.map((c) => c.text)).toEqual([
      'true',
      'false',
      undefined,
      undefined,
      ' ',
      undefined,
    ]);
    expect(raws[2]).toMatchObject({
      attributes: { Id: '3', B: 'false', N: '', E: '' },
      text: 't',
      children: [{ name: 'K', attributes: { X: 'v' }, text: 'u' }],
    });
  });

  it('the record size falls at the same count in one piece as walked, whatever kinds of value count', async () => {
    // Each value counts its name, 16 and its text (4 for null): these rows count more than their
    // text, so the count — not the text's length — decides where the limit falls.
    const rows = [
      '{"@Id":"1","N":null,"T":true,"F":false,"E":"","S":"abc"}',
      '{"@Id":"2","@A":null,"@B":true,"#text":"x","?p":"","#c":null}',
      '{"@Id":"3","L":[null,"a",["b",[null,false]],{"k":true}],"O":{"P":{"Q":null}}}',
    ];
    for (const row of rows) {
      const d = doc([row]);
      const outcome = async (list: string[], maxRecordBytes: number) => {
        const { events, error } = await run(list, { maxRecordBytes });
        return error?.code ?? events.filter((e) => e.type === 'record');
      };
      // The smallest limit the walk reads the row within.
      let limit = row.length;
      while ((await outcome([...d], limit)) === 'ISAMS_RECORD_TOO_LARGE') limit++;
      expect(limit, row).toBeGreaterThan(row.length + 16);
      for (const l of [limit - 1, limit, limit + 1]) {
        expect(await outcome([d], l), `${row} within ${l}`).toEqual(await outcome([...d], l));
      }
      expect(await outcome([d], limit - 1)).toBe('ISAMS_RECORD_TOO_LARGE');
      // At the limit the fast way reads it (one parse; a row it gives up on is parsed again).
      expect(await rowParses(() => run([d], { maxRecordBytes: limit })), row).toBe(1);
    }
  });
});

describe('streamBatchDocumentBatches', () => {
  it('gives the same events as streamBatchDocument, one non-empty batch per chunk, the last ending with end', async () => {
    const sketch = fixture('reference-sketch.json');
    for (const format of ['json', 'xml'] as const) {
      const doc = format === 'json' ? sketch : fixture('reference-sample.xml');
      const list = [doc.slice(0, 200), doc.slice(200, 201), doc.slice(201)];
      const batches: BatchParseEvent[][] = [];
      for await (const b of streamBatchDocumentBatches(pieces(list), { format })) batches.push(b);
      const events: BatchParseEvent[] = [];
      for await (const e of streamBatchDocument(pieces(list), { format })) events.push(e);
      expect(batches.flat()).toEqual(events);
      expect(batches.length).toBeLessThanOrEqual(list.length + 1);
      expect(batches.every((b) => b.length > 0)).toBe(true);
      expect(batches.at(-1)!.at(-1)!.type).toBe('end');
      expect(events.filter((e) => e.type === 'record').length).toBeGreaterThan(0);
    }
  });
});
