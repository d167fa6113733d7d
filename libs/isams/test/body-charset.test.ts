import { describe, expect, it } from 'vitest';
import type { BodyDigest } from '../src/client/body-digest';
import type { KnownBodyEvent } from '../src/client/fetch-batch';
import type { BatchParseEvent } from '../src/parser/parse-events';
import { parseBatchDocument } from '../src/parser/parse-batch-document';
import { toTyped } from '../src/typed/to-typed';
import { fetchEvents, fetchFailure, testFetchOptions as options } from './helpers';
import { serversClosedAfterEach } from './local-servers';
import type { Handler } from './local-servers';

// How a success body's bytes become text (README › Text encoding): a byte-order mark, then the
// HTTP charset, then BOM-less UTF-16 told from the bytes, else UTF-8. The XML declaration's
// encoding is never honoured (iSAMS's says utf-16 over UTF-8 bytes).

const server = serversClosedAfterEach();

const answer =
  (body: Buffer, contentType: string | undefined): Handler =>
  (_req, res) => {
    res.writeHead(200, contentType === undefined ? {} : { 'content-type': contentType });
    res.end(body);
  };

/** One pupil, forename `name`, as the endpoint of `format` writes it (text; bytes are up to the test). */
const pupilDocument = (name: string, format: 'xml' | 'json'): string =>
  format === 'xml'
    ? `<?xml version="1.0" encoding="utf-16"?><iSAMS><PupilManager><CurrentPupils><Pupil Id="710"><Forename>${name}</Forename><Surname>Novak</Surname></Pupil></CurrentPupils></PupilManager></iSAMS>`
    : `{"iSAMS":{"PupilManager":{"CurrentPupils":{"Pupil":{"@Id":"710","Forename":"${name}","Surname":"Novak"}}}}}`;

const forenameOf = (events: readonly (BatchParseEvent | KnownBodyEvent)[]) => {
  expect(events.at(-1)?.type).toBe('end');
  const records = events.filter((e) => e.type === 'record');
  expect(records).toHaveLength(1);
  const typed = toTyped('currentPupils', records[0]!.raw);
  expect(typed.ok).toBe(true);
  return typed.ok ? { forename: typed.value.forename, unreadable: typed.unreadable } : undefined;
};

const utf16le = (text: string) => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, 'utf16le')]);
const utf16be = (text: string) =>
  Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, 'utf16le').swap16()]);

describe('a success body in UTF-16 with a byte-order mark', () => {
  it.each([
    ['xml', 'LE', utf16le],
    ['xml', 'BE', utf16be],
    ['json', 'LE', utf16le],
    ['json', 'BE', utf16be],
  ] as const)('%s, %s: the name comes through exactly', async (format, _endian, encode) => {
    const s = await server([answer(encode(pupilDocument('Zoë Łucja 李', format)), undefined)]);
    expect(forenameOf(await fetchEvents(options(s.url, { format })))).toEqual({
      forename: 'Zoë Łucja 李',
      unreadable: [],
    });
  });

  it('the mark wins over a charset the headers name (windows-1252)', async () => {
    const s = await server([answer(utf16le(pupilDocument('Zoë', 'xml')), 'text/xml; charset=windows-1252')]);
    expect(forenameOf(await fetchEvents(options(s.url)))?.forename).toBe('Zoë');
  });

  it('a UTF-8 mark: read as UTF-8, the mark dropped', async () => {
    const body = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(pupilDocument('Zoë', 'xml'))]);
    const s = await server([answer(body, 'text/xml; charset=iso-8859-1')]);
    expect(forenameOf(await fetchEvents(options(s.url)))?.forename).toBe('Zoë');
  });
});

describe('a success body in the charset its Content-Type names', () => {
  it.each([
    ['xml', 'text/xml; charset=windows-1252'],
    ['xml', 'text/xml; charset=ISO-8859-1'],
    ['xml', 'application/xml;charset="latin1"'],
    ['json', 'application/json; charset=windows-1252'],
  ] as const)('%s with %s: "Zoë" sent as 0xEB reads as Zoë', async (format, contentType) => {
    const body = Buffer.from(pupilDocument('Zoë', format), 'latin1');
    expect(body.includes(0xeb)).toBe(true);
    const s = await server([answer(body, contentType)]);
    expect(forenameOf(await fetchEvents(options(s.url, { format })))).toEqual({
      forename: 'Zoë',
      unreadable: [],
    });
  });

  it('charset=utf-16 over bytes that are not UTF-16 is not trusted, like the XML declaration', async () => {
    const s = await server([answer(Buffer.from(pupilDocument('Zoë', 'xml')), 'text/xml; charset=utf-16')]);
    expect(forenameOf(await fetchEvents(options(s.url)))?.forename).toBe('Zoë');
  });

  it.each(['us-ascii', 'ASCII', 'ansi_x3.4-1968', 'csASCII', 'ISO_646.irv:1991', 'ANSI_X3.4-1986'])(
    'charset=%s over UTF-8 bytes is read as UTF-8: ASCII is a subset of UTF-8, and a byte over 0x7F proves the label wrong',
    async (label) => {
      const s = await server([
        answer(Buffer.from(pupilDocument('Zoë', 'xml')), `text/xml; charset=${label}`),
      ]);
      expect(forenameOf(await fetchEvents(options(s.url)))).toEqual({ forename: 'Zoë', unreadable: [] });
    },
  );

  it('charset=us-ascii over bytes that are not UTF-8 either: the name is unreadable, never guessed', async () => {
    const body = Buffer.from(pupilDocument('Zoë', 'xml'), 'latin1');
    const s = await server([answer(body, 'text/xml; charset=us-ascii')]);
    expect(forenameOf(await fetchEvents(options(s.url)))).toEqual({
      forename: undefined,
      unreadable: ['forename'],
    });
  });

  it('charset=utf-8 (any label of it): UTF-8', async () => {
    const s = await server([answer(Buffer.from(pupilDocument('Zoë', 'xml')), 'text/xml; charset=UTF8')]);
    expect(forenameOf(await fetchEvents(options(s.url)))?.forename).toBe('Zoë');
  });

  it('a charset SchoolCloud cannot read is refused by name, before any event', async () => {
    const s = await server([answer(Buffer.from(pupilDocument('Zoë', 'xml')), 'text/xml; charset=x-made-up')]);
    const err = await fetchFailure(options(s.url));
    expect(err.code).toBe('ISAMS_MALFORMED_DOCUMENT');
    expect(err.message).toContain('charset "x-made-up"');
    expect(err.details).toMatchObject({ charset: 'x-made-up' });
    expect(err.adminAction).toMatch(/changed nothing/);
    expect(err.transient).toBe(false);
  });

  it('the body digest covers the charset: the same bytes in another charset are not the known body', async () => {
    const body = Buffer.from(pupilDocument('Zoë', 'xml'), 'latin1');
    const heard: BodyDigest[] = [];
    for (const contentType of [undefined, 'text/xml; charset=windows-1252']) {
      const s = await server([answer(body, contentType)]);
      await fetchEvents(options(s.url, { digest: { onBody: (d) => heard.push(d) } }));
    }
    expect(heard).toHaveLength(2);
    expect(heard[0]!.bytes).toBe(body.length);
    expect(heard[1]!.sha256).not.toBe(heard[0]!.sha256);
    // and a body sent without a charset hashes as its bytes alone (unchanged)
    const { createHash } = await import('node:crypto');
    expect(heard[0]!.sha256).toBe(createHash('sha256').update(body).digest('hex'));
  });
});

describe('a success body without a charset whose bytes are not UTF-8', () => {
  it('the name is reported unreadable and never read as U+FFFD (the roster keeps the stored name)', async () => {
    const s = await server([answer(Buffer.from(pupilDocument('Zoë', 'xml'), 'latin1'), 'text/xml')]);
    expect(forenameOf(await fetchEvents(options(s.url)))).toEqual({
      forename: undefined,
      unreadable: ['forename'],
    });
  });

  it('the parser alone, given a charset, decodes with it (streamed byte by byte)', async () => {
    async function* bytes() {
      for (const b of Buffer.from(pupilDocument('Zoë', 'xml'), 'latin1')) yield Uint8Array.of(b);
    }
    const doc = await parseBatchDocument(bytes(), { format: 'xml', charset: 'windows-1252' });
    const typed = toTyped('currentPupils', doc.datasets.currentPupils.records[0]!);
    expect(typed.ok && typed.value.forename).toBe('Zoë');
  });
});
