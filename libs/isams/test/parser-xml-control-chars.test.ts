import { describe, expect, it } from 'vitest';
import { parseBatchDocument } from '../src/parser/parse-batch-document';
import { chunks, collect, errorOf } from './helpers';

// SQL Server's FOR XML (without TYPE) writes a character XML 1.0 does not allow as a character
// reference (`&#x0B;` for a vertical tab pasted into a name); one of them must not stop the school's
// whole document, as it does not through the JSON endpoint.
const doc = (surname: string, title = 'Mr'): string =>
  '<iSAMS><HRManager><CurrentStaff>' +
  '<StaffMember Id="1"><Surname>Smith</Surname></StaffMember>' +
  `<StaffMember Id="2" Title="${title}"><Forename>Ann</Forename><Surname>${surname}</Surname><Initials>&#x20;</Initials></StaffMember>` +
  '</CurrentStaff></HRManager></iSAMS>';

const SIZES = [1, 2, 3, 7, 1_000_000];

/** The two staff records of {@link doc} as read in chunks of `size` bytes. */
async function staffOf(xml: string, size: number) {
  const parsed = await parseBatchDocument(chunks(xml, size), { format: 'xml' });
  return parsed.datasets.currentStaff;
}

describe('streamBatchDocument (XML): characters XML 1.0 does not allow', () => {
  it.each([
    ['&#x0B; (a vertical tab)', '&#x0B;'],
    ['&#x0b; (lower-case hex)', '&#x0b;'],
    ['&#x1F;', '&#x1F;'],
    ['&#1; (decimal)', '&#1;'],
    ['&#0;', '&#0;'],
    ['&#x0000000C; (leading zeros)', '&#x0000000C;'],
    ['&#xFFFE;', '&#xFFFE;'],
    ['&#xFFFF;', '&#xFFFF;'],
    ['&#xD800; (a surrogate)', '&#xD800;'],
    ['&#xDFFF; (a surrogate)', '&#xDFFF;'],
    ['&#x110000; (past U+10FFFF)', '&#x110000;'],
    ['&#99999999999;', '&#99999999999;'],
    ['a literal U+000B', '\u000b'],
    ['a literal U+0000', '\u0000'],
    ['a literal U+001F', '\u001f'],
  ])('reads %s as U+FFFD, the rest of the document exactly, in any chunking', async (_, bad) => {
    for (const size of SIZES) {
      const staff = await staffOf(doc(`Jo${bad}nes`), size);
      expect(staff.records).toEqual([
        {
          name: 'StaffMember',
          attributes: { Id: '1' },
          children: [{ name: 'Surname', attributes: {}, text: 'Smith', children: [] }],
        },
        {
          name: 'StaffMember',
          attributes: { Id: '2', Title: 'Mr' },
          children: [
            { name: 'Forename', attributes: {}, text: 'Ann', children: [] },
            { name: 'Surname', attributes: {}, text: 'Jo\uFFFDnes', children: [] },
            { name: 'Initials', attributes: {}, text: ' ', children: [] },
          ],
        },
      ]);
      // The typed view treats U+FFFD as a value that is not text: unreadable, record kept.
      expect(staff.findings.map((f) => [f.code, f.recordId, f.field])).toEqual([
        ['ISAMS_FIELD_UNREADABLE', '2', 'Surname'],
      ]);
    }
  });

  it('reads several of them, in attribute values and next to other references', async () => {
    const xml = doc('&#x0B;&#x0B;&amp;&#x1;&#xE9;\u0001x', 'M&#x1F;r&#x20;');
    for (const size of SIZES) {
      const [, second] = (await staffOf(xml, size)).records;
      expect(second!.attributes).toEqual({ Id: '2', Title: 'M\uFFFDr ' });
      expect(second!.children[1]!.text).toBe('\uFFFD\uFFFD&\uFFFDé\uFFFDx');
    }
  });

  it('reads them where a reference or a character straddles the reader’s 64 KiB pieces', async () => {
    const pad = (n: number) => `<Note>${'a'.repeat(n)}</Note>`;
    const head = '<iSAMS><HRManager><CurrentStaff><StaffMember Id="1">';
    // The reference starts 6 characters before the piece boundary (ends on it) to on it.
    for (let shift = -6; shift <= 0; shift++) {
      const before = head + pad(64 * 1024 - head.length - 24 + shift) + '<Surname>Jo';
      expect(before.length).toBe(64 * 1024 + shift);
      const xml = `${before}&#x0B;n\u000Bes</Surname></StaffMember></CurrentStaff></HRManager></iSAMS>`;
      // One string of over 64 KiB: the reader cuts it into pieces itself.
      const parsed = await parseBatchDocument(xml, { format: 'xml' });
      const surname = parsed.datasets.currentStaff.records[0]!.children[1]!;
      expect(surname.text).toBe('Jo\uFFFDn\uFFFDes');
    }
  });

  it('keeps everything XML 1.0 allows exactly as before', async () => {
    const xml = doc('&#x9;&#xA;&#xD;&#x20;&#x7F;&#x85;&#xD7FF;&#xE000;&#xFFFD;&#x10000;&#x10FFFF;');
    for (const size of SIZES) {
      const [, second] = (await staffOf(xml, size)).records;
      expect(second!.children[1]!.text).toBe('\t\n\r \u007f\u0085\ud7ff\ue000\ufffd\u{10000}\u{10ffff}');
    }
    // Inside CDATA a reference is text, not a reference: kept as written.
    const [, second] = (await staffOf(doc('<![CDATA[Jo&#x0B;nes]]>'), 7)).records;
    expect(second!.children[1]!.text).toBe('Jo&#x0B;nes');
  });

  it('still refuses malformed references, undefined entities and a DOCTYPE entity attack', async () => {
    for (const [bad, reason] of [
      ['&#xZZ;', 'malformed character entity'],
      ['&#x;', 'malformed character entity'],
      ['&#;', 'malformed character entity'],
      ['&#-1;', 'malformed character entity'],
      ['&nbsp;', 'undefined entity'],
    ]) {
      const err = await errorOf(collect(doc(`Jo${bad}nes`)));
      expect(err.code).toBe('ISAMS_MALFORMED_DOCUMENT');
      expect(err.message).toContain(reason);
    }
    const attack =
      '<?xml version="1.0"?><!DOCTYPE iSAMS [<!ENTITY a "&#x0B;aaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>' +
      doc('&b;');
    const err = await errorOf(collect(attack));
    expect(err.code).toBe('ISAMS_MALFORMED_DOCUMENT');
    expect(err.message).toContain('undefined entity');
  });

  it('still refuses a disallowed character where it breaks the markup', async () => {
    // Read as U+FFFD, a NUL after the root is still data outside it; in a tag it is still no name.
    expect((await errorOf(collect(`${doc('Jones')}\u0000\u0000`))).code).toBe('ISAMS_MALFORMED_DOCUMENT');
    expect((await errorOf(collect(doc('Jones').replace('<Surname>', '<\u000bSurname>')))).code).toBe(
      'ISAMS_MALFORMED_DOCUMENT',
    );
    // A literal U+FFFE is not looked for (it would double the scan's cost); a reference to it is.
    expect((await errorOf(collect(doc('Jo\ufffenes')))).message).toContain('disallowed character');
  });
});
