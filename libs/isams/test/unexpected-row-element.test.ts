import { describe, expect, it } from 'vitest';
import { parseBatchDocument } from '../src/parser/parse-batch-document';
import { streamBatchDocument } from '../src/parser/stream-batch-document';
import type { BatchParseEvent } from '../src/parser/parse-events';
import { chunks, collect, errorOf } from './helpers';

// An element directly inside a dataset's container whose name is not the dataset's row
// (`<Pupl Id="2">` beside the `<Pupil>` rows, a JSON key beside "Pupil"): iSAMS writes only rows
// there, so it may be a damaged or renamed row. Reported alone, the dataset read complete without
// it and the pupil it stands for was removed. It is now also passed on as a record of the dataset
// with its name only — no identity, its content not read — so the dataset counts as not fully read.

const pupils = (inside: string) =>
  `<iSAMS><PupilManager><CurrentPupils>${inside}</CurrentPupils></PupilManager></iSAMS>`;
const json = (container: unknown) =>
  JSON.stringify({ iSAMS: { PupilManager: { CurrentPupils: container } } });
const OTHER = '<Pupl Id="2" PersonId="82"><Forename>Ann</Forename><Pupil Id="3"/></Pupl>';
/** What an element that is not a row is passed on as: its name, nothing else. */
const marker = (name: string) => ({ name, attributes: {}, children: [] });

const records = (events: BatchParseEvent[]) =>
  events.flatMap((e) => (e.type === 'record' ? [{ datasetId: e.datasetId, raw: e.raw }] : []));
const unexpected = (events: BatchParseEvent[]) =>
  events.flatMap((e) =>
    e.type === 'finding' && e.finding.code === 'ISAMS_UNEXPECTED_ELEMENT' ? [e.finding] : [],
  );

describe('an element that is not a row, directly inside a dataset container', () => {
  it('XML: reported with its path and passed on as a record with its name only, counted in the container', async () => {
    const events = await collect(pupils(`<Pupil Id="1"/>${OTHER}`));
    expect(records(events)).toEqual([
      { datasetId: 'currentPupils', raw: { name: 'Pupil', attributes: { Id: '1' }, children: [] } },
      { datasetId: 'currentPupils', raw: marker('Pupl') },
    ]);
    const [finding, ...more] = unexpected(events);
    expect(more).toEqual([]);
    expect(finding).toMatchObject({ datasetId: 'currentPupils', path: 'PupilManager/CurrentPupils/Pupl' });
    expect(finding!.message).toContain('only Pupil rows belong');
    expect(finding!.message).not.toMatch(/Ann|82/);
    expect(events).toContainEqual({ type: 'dataset-end', datasetId: 'currentPupils', count: 2, total: 2 });
    expect(events.at(-1)?.type).toBe('end');
  });

  it('the typed view finds no identity in it (ISAMS_RECORD_MISSING_ID): its Id and fields are not read', async () => {
    const doc = await parseBatchDocument(pupils(`<Pupil Id="1"/>${OTHER}`), { format: 'xml' });
    expect(doc.datasets.currentPupils.findings.map((f) => f.code)).toEqual([
      'ISAMS_UNEXPECTED_ELEMENT',
      'ISAMS_RECORD_MISSING_ID',
    ]);
    expect(doc.datasets.currentPupils.records.map((r) => r.attributes['Id'])).toEqual(['1', undefined]);
  });

  it('JSON: a key beside the rows — an object, a list (one element per item), text, null — reads the same', async () => {
    const events = await collect(
      json({ Pupil: { '@Id': '1' }, Pupl: [{ '@Id': '2', Forename: 'Ann' }, null, 'x', [{ '@Id': '3' }]] }),
      'json',
    );
    expect(records(events).map((r) => r.raw)).toEqual([
      { name: 'Pupil', attributes: { Id: '1' }, children: [] },
      marker('Pupl'),
      marker('Pupl'),
      marker('Pupl'),
      marker('Pupl'),
    ]);
    expect(unexpected(events).map((f) => f.path)).toEqual(
      Array(4).fill('PupilManager/CurrentPupils/Pupl') as string[],
    );
    for (const other of [{ '@Id': '2' }, 'x', null, 12, true]) {
      const one = await collect(json({ Student: other, Pupil: { '@Id': '1' } }), 'json');
      expect(
        records(one).map((r) => r.raw.name),
        JSON.stringify(other),
      ).toEqual(['Student', 'Pupil']);
      expect(unexpected(one), JSON.stringify(other)).toHaveLength(1);
    }
  });

  it('XML and JSON give the same records and findings for the same elements', async () => {
    const xml = await parseBatchDocument(pupils(`<Pupil Id="1"/>${OTHER}<Pupl/>`), { format: 'xml' });
    const fromJson = await parseBatchDocument(
      json({ Pupil: { '@Id': '1' }, Pupl: [{ '@Id': '2', '@PersonId': '82', Forename: 'Ann' }, null] }),
      { format: 'json' },
    );
    expect(fromJson.datasets.currentPupils.records).toEqual(xml.datasets.currentPupils.records);
    expect(fromJson.datasets.currentPupils.findings).toEqual(xml.datasets.currentPupils.findings);
  });

  it('the row name in any letter case is a row, read whole', async () => {
    for (const [doc, format] of [
      [pupils('<pupil Id="1"><Forename>Ann</Forename></pupil><PUPIL Id="2"/>'), 'xml'],
      [json({ pupil: { '@Id': '1', Forename: 'Ann' }, PUPIL: [{ '@Id': '2' }] }), 'json'],
    ] as const) {
      const events = await collect(doc, format);
      expect(
        records(events).map((r) => r.raw.attributes['Id']),
        doc,
      ).toEqual(['1', '2']);
      expect(unexpected(events), doc).toEqual([]);
    }
  });

  it('an array in a JSON row list is passed on as a record without identity, not dropped', async () => {
    const doc = await parseBatchDocument(json({ Pupil: [{ '@Id': '1' }, [{ '@Id': '2' }], []] }), {
      format: 'json',
    });
    expect(doc.datasets.currentPupils.records).toEqual([
      { name: 'Pupil', attributes: { Id: '1' }, children: [] },
      { name: 'Pupil', attributes: {}, children: [{ name: 'Pupil', attributes: { Id: '2' }, children: [] }] },
      { name: 'Pupil', attributes: {}, children: [] },
    ]);
    expect(doc.datasets.currentPupils.findings.map((f) => f.code)).toEqual([
      'ISAMS_RECORD_MISSING_ID',
      'ISAMS_RECORD_MISSING_ID',
    ]);
  });

  it('elements in the root, a module or an unknown container, and comments, stay as they were: no record', async () => {
    for (const [doc, format] of [
      [
        '<iSAMS><Pupl Id="2"/><PupilManager><Siblings><Pupl Id="2"/></Siblings><!-- c --></PupilManager></iSAMS>',
        'xml',
      ],
      [
        '{"iSAMS":{"Pupl":{"@Id":"2"},"PupilManager":{"Siblings":{"Pupl":{"@Id":"2"}},"#comment":"c"}}}',
        'json',
      ],
    ] as const) {
      const events = await collect(doc, format);
      expect(records(events), doc).toEqual([]);
      expect(unexpected(events), doc).toEqual([]);
      expect(events.at(-1), doc).toMatchObject({ type: 'end', unknownContainers: ['PupilManager/Siblings'] });
    }
  });

  it('an element inside a row stays part of the row (kept in its raw record), not a record of its own', async () => {
    const events = await collect(pupils('<Pupil Id="1"><Pupl Id="2"/></Pupil>'));
    expect(records(events).map((r) => r.raw)).toEqual([
      {
        name: 'Pupil',
        attributes: { Id: '1' },
        children: [{ name: 'Pupl', attributes: { Id: '2' }, children: [] }],
      },
    ]);
    expect(unexpected(events)).toEqual([]);
  });
});

describe('elements that are not rows: bounded like rows', () => {
  it('they count towards the record limits: a document of many of them stops at ISAMS_TOO_MANY_RECORDS', async () => {
    const limits = { maxRecordsPerDataset: 10 };
    for (const [doc, format] of [
      [pupils('<Pupl/>'.repeat(50)), 'xml'],
      [json({ Pupl: Array(50).fill(null) }), 'json'],
      [json({ Pupl: Array(50).fill({ '@Id': '1' }) }), 'json'],
    ] as const) {
      const err = await errorOf(
        (async () => {
          for await (const e of streamBatchDocument(
            (async function* () {
              yield doc;
            })(),
            { format, limits },
          ))
            void e;
        })(),
      );
      expect(err.code, doc).toBe('ISAMS_TOO_MANY_RECORDS');
    }
  });

  it('its content is not built: a large one costs nothing towards the record size', async () => {
    const big = `<Pupl>${'<Forename>Ann</Forename>'.repeat(2000)}</Pupl>`;
    let raws = 0;
    for await (const e of streamBatchDocument(
      (async function* () {
        yield pupils(big);
      })(),
      { format: 'xml', limits: { maxRecordBytes: 5000 } },
    ))
      if (e.type === 'record') raws += 1;
    expect(raws).toBe(1);
  });
});

describe('XML: the size of one value is measured from the last event', () => {
  it('a record limit below the 64 KiB piece reads a document of many small rows (it refused any piece longer than the limit)', async () => {
    const doc = pupils('<Pupil Id="1"><Forename>Ann</Forename></Pupil>'.repeat(2000));
    let rows = 0;
    for await (const e of streamBatchDocument(
      (async function* () {
        yield doc;
      })(),
      { format: 'xml', limits: { maxRecordBytes: 4096 }, detectDuplicates: false },
    ))
      if (e.type === 'record') rows += 1;
    expect(rows).toBe(2000);
  });

  it('one value longer than such a limit, arriving in pieces, is still refused', async () => {
    const doc = pupils(`<Pupil Id="1"/><!--${'c'.repeat(10_000)}--><Pupil Id="2"/>`);
    const err = await errorOf(
      (async () => {
        for await (const e of streamBatchDocument(chunks(doc, 1000), {
          format: 'xml',
          limits: { maxRecordBytes: 4096 },
        }))
          void e;
      })(),
    );
    expect(err.code).toBe('ISAMS_RECORD_TOO_LARGE');
  });
});
