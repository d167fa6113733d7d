import { describe, expect, it } from 'vitest';
import { classifyErrorResponse } from '../src/client/fetch-batch';
import { classifyMessage } from '../src/errors/classify-message';
import { redactSecrets } from '../src/errors/redact';
import { parseBatchDocument } from '../src/parser/parse-batch-document';
import type { BatchParseEvent, StreamBatchOptions } from '../src/parser/parse-events';
import { streamBatchDocument } from '../src/parser/stream-batch-document';
import { chunks, errorOf } from './helpers';

type Limits = Record<string, number>;

/** Every event up to the error, and the error (none when the document parsed). */
async function run(
  doc: string,
  format: 'xml' | 'json',
  limits?: Limits,
  size = 4096,
): Promise<{
  events: BatchParseEvent[];
  error?: { code: string; message: string; details?: Record<string, unknown> };
}> {
  const events: BatchParseEvent[] = [];
  const opts = { format, ...(limits ? { limits } : {}) } as StreamBatchOptions;
  try {
    for await (const e of streamBatchDocument(chunks(doc, size), opts)) events.push(e);
    return { events };
  } catch (err) {
    return { events, error: err as { code: string; message: string; details?: Record<string, unknown> } };
  }
}

const xml = (rows: string) =>
  `<?xml version="1.0"?><iSAMS><PupilManager><CurrentPupils>${rows}</CurrentPupils></PupilManager></iSAMS>`;
const json = (rows: string) => `{"iSAMS":{"PupilManager":{"CurrentPupils":{"Pupil":[${rows}]}}}}`;
const pupilsXml = (n: number, from = 1) =>
  Array.from({ length: n }, (_, i) => `<Pupil Id="${from + i}"><Forename>A</Forename></Pupil>`).join('');
const pupilsJson = (n: number) =>
  Array.from({ length: n }, (_, i) => `{"@Id":"${i + 1}","Forename":"A"}`).join(',');

describe('hostile documents: each limit ends the parse with its own error, before the end event', () => {
  it('nesting deeper than the limit → ISAMS_DOCUMENT_TOO_DEEP naming the limit and the dataset (XML)', async () => {
    const deep = `<Pupil Id="1">${'<a>'.repeat(70)}${'</a>'.repeat(70)}</Pupil>`;
    const { events, error } = await run(xml(deep), 'xml');
    expect(error?.code).toBe('ISAMS_DOCUMENT_TOO_DEEP');
    expect(error?.message).toContain('64 levels');
    expect(error?.message).toContain('PupilManager/CurrentPupils (currentPupils)');
    expect(error?.details).toEqual({ limit: 64, datasetId: 'currentPupils' });
    expect(events.some((e) => e.type === 'end' || e.type === 'record')).toBe(false);
  });

  it('nesting deeper than the limit outside any dataset, and in JSON', async () => {
    const outside = `<iSAMS><Other>${'<a>'.repeat(100)}${'</a>'.repeat(100)}</Other></iSAMS>`;
    expect((await run(outside, 'xml')).error?.code).toBe('ISAMS_DOCUMENT_TOO_DEEP');
    const deepJson = json(`{"@Id":"1","Deep":${'['.repeat(100)}${']'.repeat(100)}}`);
    const { error } = await run(deepJson, 'json');
    expect(error?.code).toBe('ISAMS_DOCUMENT_TOO_DEEP');
    expect(error?.details).toEqual({ limit: 64, datasetId: 'currentPupils' });
    // The limit is configurable; depth 7 (the real documents' deepest) passes a limit of 8.
    const real = xml(`<Pupil Id="1"><A><B><C>x</C></B></A></Pupil>`);
    expect((await run(real, 'xml', { maxDepth: 8 })).error).toBeUndefined();
    expect((await run(real, 'xml', { maxDepth: 6 })).error?.code).toBe('ISAMS_DOCUMENT_TOO_DEEP');
  });

  it('a record larger than the limit (many children, many attributes, long text) → ISAMS_RECORD_TOO_LARGE', async () => {
    const limits = { maxRecordBytes: 10_000 };
    const manyChildren = xml(`<Pupil Id="1">${'<b/>'.repeat(1000)}</Pupil>`);
    const manyAttributes = xml(
      `<Pupil Id="1"><F ${Array.from({ length: 800 }, (_, i) => `a${i}="v"`).join(' ')}/></Pupil>`,
    );
    const longText = xml(`<Pupil Id="1"><Forename>${'x'.repeat(20_000)}</Forename></Pupil>`);
    for (const doc of [manyChildren, manyAttributes, longText]) {
      const { events, error } = await run(doc, 'xml', limits);
      expect(error?.code).toBe('ISAMS_RECORD_TOO_LARGE');
      expect(error?.details).toEqual({ limit: 10_000, datasetId: 'currentPupils' });
      expect(error?.message).toContain('10000 bytes');
      expect(error?.message).not.toContain('xxx');
      expect(events.some((e) => e.type === 'record' || e.type === 'end')).toBe(false);
    }
    const jsonChildren = json(`{"@Id":"1","B":[${Array(1000).fill('{"@x":"1"}').join(',')}]}`);
    expect((await run(jsonChildren, 'json', limits)).error?.code).toBe('ISAMS_RECORD_TOO_LARGE');
  });

  it('one huge value is refused wherever it is: a record field, a comment, text outside records, a JSON string (default 1 MiB)', async () => {
    const big = 'x'.repeat(2 * 1024 * 1024);
    const docs: [string, 'xml' | 'json'][] = [
      [xml(`<Pupil Id="1"><Forename>${big}</Forename></Pupil>`), 'xml'],
      [xml(`<!--${big}-->`), 'xml'],
      [`<iSAMS><Other>${big}</Other></iSAMS>`, 'xml'],
      [`<iSAMS><Other a="${big}"/></iSAMS>`, 'xml'],
      [json(`{"@Id":"1","Forename":"${big}"}`), 'json'],
      [`{"iSAMS":{"Other":"${big}"}}`, 'json'],
    ];
    for (const [doc, format] of docs) {
      const { error } = await run(doc, format, undefined, 64 * 1024);
      expect(error?.code, doc.slice(0, 60)).toBe('ISAMS_RECORD_TOO_LARGE');
      expect(error?.details?.limit).toBe(1024 * 1024);
      expect(error?.message.length).toBeLessThan(300);
    }
  });

  it('more records than the per-dataset limit → ISAMS_TOO_MANY_RECORDS naming the dataset; at the limit parses', async () => {
    for (const [doc, format] of [
      [xml(pupilsXml(101)), 'xml'],
      [json(pupilsJson(101)), 'json'],
    ] as const) {
      const { events, error } = await run(doc, format, { maxRecordsPerDataset: 100 });
      expect(error?.code).toBe('ISAMS_TOO_MANY_RECORDS');
      expect(error?.details).toEqual({ limit: 100, datasetId: 'currentPupils' });
      expect(error?.message).toContain('100 records in PupilManager/CurrentPupils (currentPupils)');
      // Records before the error may have been handed out (the consumer discards them on the error).
      expect(events.filter((e) => e.type === 'record').length).toBeLessThanOrEqual(100);
      // No end event: the consumer never sees the dataset as complete (nothing published, no removal).
      expect(events.some((e) => e.type === 'end' || e.type === 'dataset-end')).toBe(false);
    }
    expect((await run(xml(pupilsXml(100)), 'xml', { maxRecordsPerDataset: 100 })).error).toBeUndefined();
  });

  it('the per-dataset limit counts a dataset over all its containers; the per-document limit over all datasets', async () => {
    const twice = `<iSAMS><PupilManager><CurrentPupils>${pupilsXml(60)}</CurrentPupils><CurrentPupils>${pupilsXml(60, 100)}</CurrentPupils></PupilManager></iSAMS>`;
    expect((await run(twice, 'xml', { maxRecordsPerDataset: 100 })).error?.code).toBe(
      'ISAMS_TOO_MANY_RECORDS',
    );
    const mixed = `<iSAMS><PupilManager><CurrentPupils>${pupilsXml(60)}</CurrentPupils></PupilManager><HRManager><CurrentStaff>${Array.from({ length: 60 }, (_, i) => `<StaffMember Id="${i}"/>`).join('')}</CurrentStaff></HRManager></iSAMS>`;
    const { error } = await run(mixed, 'xml', { maxRecordsPerDocument: 100 });
    expect(error?.code).toBe('ISAMS_TOO_MANY_RECORDS');
    expect(error?.details).toEqual({ limit: 100 });
    expect((await run(mixed, 'xml', { maxRecordsPerDocument: 120 })).error).toBeUndefined();
  });
});

describe('hostile documents: duplicate ids are detected in bounded memory, with the same answers', () => {
  it('reports each repeated id (per dataset; contacts by id, person and first-person flag) and no false duplicates among 200,000 ids', async () => {
    const doc = xml(`${pupilsXml(200_000)}<Pupil Id="7"/><Pupil Id="200000"/>`);
    const parsed = await parseBatchDocument(doc, { format: 'xml' });
    const dups = parsed.datasets.currentPupils.findings.filter((f) => f.code === 'ISAMS_DUPLICATE_RECORD_ID');
    expect(dups.map((f) => f.recordId)).toEqual(['7', '200000']);
    // Every record is kept, duplicates included: a duplicate is reported, never dropped.
    expect(parsed.datasets.currentPupils.records).toHaveLength(200_002);
  });

  it('a hostile id is quoted bounded in the finding', async () => {
    const id = 'A'.repeat(50_000);
    const doc = xml(`<Pupil Id="${id}"/><Pupil Id="${id}"/>`);
    const parsed = await parseBatchDocument(doc, { format: 'xml' });
    const dup = parsed.datasets.currentPupils.findings.find((f) => f.code === 'ISAMS_DUPLICATE_RECORD_ID')!;
    expect(dup.recordId!.length).toBeLessThanOrEqual(120);
    expect(dup.message.length).toBeLessThanOrEqual(1100);
  });
});

describe('hostile documents: text from the server is bounded and without control characters', () => {
  it('a 5 MB iSAMS error description becomes a message under 2,000 characters without control characters', async () => {
    const description = `Bad\u0000things\r\n\u001b[31m${'y'.repeat(5 * 1024 * 1024)}`;
    const err = classifyMessage({ messageId: 'X'.repeat(10_000), title: 'T\u0007', description }, 500);
    expect(err.message.length).toBeLessThanOrEqual(2000);
    expect(err.message).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(String(err.details?.description).length).toBeLessThanOrEqual(520);
    expect(String(err.details?.messageId).length).toBeLessThanOrEqual(520);
    expect(err.message).toContain('Bad things');
  });

  it('a key echoed by the host and cut by the bound is still redacted (no key prefix survives the cut)', () => {
    const key = '{B0B0B0B0-1111-4222-8333-444455556666}';
    for (const offset of [0, 5, 20, 37]) {
      const description = `${'d'.repeat(500 - 20 - offset)}${key}${'e'.repeat(1000)}`;
      const err = classifyMessage({ messageId: 'X', title: 't', description });
      const logged = redactSecrets(err.message, key);
      for (let k = 4; k < key.length; k++) expect(logged).not.toContain(key.slice(0, k) + '…');
      expect(logged).not.toContain(key.slice(0, 8));
    }
  });

  it('a key echoed in another letter case and cut by the bound is redacted too (any form, any case)', () => {
    const key = '{0A1C996B-8E74-4388-A3C4-8DA1E40ADA57}';
    for (const echoed of [
      key.toLowerCase(),
      key.slice(1, -1).toLowerCase(),
      encodeURIComponent(key).toLowerCase(),
    ])
      for (const offset of [0, 5, 20, 35]) {
        const description = `${'d'.repeat(500 - 20 - offset)}${echoed}${'e'.repeat(1000)}`;
        const err = classifyMessage({ messageId: 'X', title: 't', description });
        const logged = redactSecrets(err.message, key).toLowerCase();
        expect(logged).not.toContain('0a1c996b');
        for (let k = 4; k < echoed.length; k++) expect(logged).not.toContain(echoed.slice(0, k) + '…');
      }
  });

  it('a 5 MB error body from the host is read only up to the error-body limit and classified bounded', async () => {
    const body = Buffer.from(
      `<Message><MessageId>Weird</MessageId><Title>t</Title><Description>${'z'.repeat(5 * 1024 * 1024)}</Description></Message>`,
    );
    const err = await classifyErrorResponse(500, body);
    expect(err.message.length).toBeLessThanOrEqual(2000);
    expect(JSON.stringify(err.details).length).toBeLessThan(2000);
  });

  it('element names in findings and unknown containers are bounded, and at most 100 unknown containers are listed', async () => {
    const long = `E${'n'.repeat(100_000)}`;
    const containers = Array.from({ length: 500 }, (_, i) => `<C${i}/>`).join('');
    const doc = `<iSAMS><PupilManager><CurrentPupils><${long}/></CurrentPupils><${long}/>${containers}</PupilManager></iSAMS>`;
    const parsed = await parseBatchDocument(doc, { format: 'xml' });
    const unexpected = parsed.datasets.currentPupils.findings.find(
      (f) => f.code === 'ISAMS_UNEXPECTED_ELEMENT',
    )!;
    expect(unexpected.path!.length).toBeLessThanOrEqual(520);
    expect(unexpected.message.length).toBeLessThanOrEqual(1100);
    expect(parsed.unknownContainers.length).toBeLessThanOrEqual(100);
    expect(Math.max(...parsed.unknownContainers.map((c) => c.length))).toBeLessThanOrEqual(220);
  });

  it('a root element name the host made up is quoted bounded', async () => {
    const err = await errorOf(parseBatchDocument(`<${'R'.repeat(200_000)}/>`, { format: 'xml' }));
    expect(err.code).toBe('ISAMS_MALFORMED_DOCUMENT');
    expect(err.message.length).toBeLessThanOrEqual(2000);
  });
});
