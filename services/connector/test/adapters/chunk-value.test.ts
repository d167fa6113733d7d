/**
 * A chunk's value is built from the spooled bytes without decoding them: it must be the very text
 * the records spliced in as strings gave, for any canonical line (escapes, non-ASCII, a newline
 * inside a value — escaped by JSON, never a raw byte).
 */
import { describe, expect, it } from 'vitest';
import { withRecords } from '../../src/adapters/kafka/run-publisher';
import { canonicalRawJson } from '../../src/domain/canonical-json';

const EMPTY = '{"syncRunId":"r1","datasetId":"currentPupils","chunkIndex":0,"records":[]}';

describe('a chunk value from spooled bytes', () => {
  it('is the records spliced in as text would give, and parses to the same records', () => {
    const lines = [
      canonicalRawJson({ name: 'Pupil', attributes: { Id: '1', b: 'Zoë “x” \\ /' }, children: [] }),
      canonicalRawJson({
        name: 'Pupil',
        attributes: { Id: '2' },
        text: 'two\nlines\r\tand \u2028 \u0000',
        children: [],
      }),
      canonicalRawJson({
        name: 'Pupil',
        attributes: {},
        children: [{ name: 'Forename', attributes: {}, text: '😀 \ud800', children: [] }],
      }),
    ];
    const spooled = Buffer.from(lines.map((l) => `${l}\n`).join(''));
    const value = withRecords(EMPTY, spooled);
    const asText = `${EMPTY.slice(0, -2)}${lines.join(',')}]}`;
    expect(Buffer.isBuffer(value)).toBe(true);
    expect(value.toString()).toBe(Buffer.from(asText).toString());
    expect((JSON.parse(value.toString()) as { records: unknown[] }).records).toEqual(
      lines.map((l) => JSON.parse(l)),
    );
  });

  it('an empty chunk keeps the empty value', () => {
    expect(withRecords(EMPTY, Buffer.alloc(0))).toBe(EMPTY);
  });
});
