import { describe, expect, it } from 'vitest';
import { parseBatchDocument } from '../src/parser/parse-batch-document';
import { streamBatchDocument } from '../src/parser/stream-batch-document';
import { chunks, collect, errorOf, expectReferenceTeachingSet, fixture } from './helpers';

const sketch = fixture('reference-sketch.json');

describe('streamBatchDocument (JSON, Json.NET mapping)', () => {
  it('maps the reference sketch back to RawElement: @attr, #text, null, single object vs array', async () => {
    for (const size of [1, 5, 10_000]) {
      const doc = await parseBatchDocument(chunks(sketch, size), { format: 'json' });
      const set = doc.datasets.teachingSets.records[0]!;
      const teachers = expectReferenceTeachingSet(set);
      expect(teachers.children).toEqual([
        { name: 'Teacher', attributes: { Id: '801', StaffId: '12', PrimaryTeacher: 'True' }, children: [] },
      ]);
      const setList = doc.datasets.teachingSetLists.records[0]!;
      expect(setList.children.find((c) => c.name === 'Author')).toEqual({
        name: 'Author',
        attributes: { Legacy: 'True' },
        children: [],
      });
      expect(doc.datasets.teachingSets.present).toBe(true);
      expect(doc.datasets.currentStaff.present).toBe(false);
    }
  });

  it('handles arrays of rows, a container that is an array, null/empty containers, ?xml and unknown keys', async () => {
    const json = JSON.stringify({
      '?xml': { '@version': '1.0', '@encoding': 'utf-16' },
      iSAMS: {
        PupilManager: {
          CurrentPupils: [
            { Pupil: [{ '@Id': '1', Forename: 'A' }, { '@Id': '2' }] },
            { Pupil: { '@Id': '3', Title: null } },
          ],
          Contacts: null,
          Siblings: { Pupil: { '@Id': '9' } },
        },
        TeachingManager: { Sets: '', SetLists: { SetList: [] } },
      },
    });
    const events = await collect(json, 'json', 13);
    const end = events.at(-1)!;
    expect(end.type).toBe('end');
    const doc = await parseBatchDocument(json, { format: 'json' });
    expect(doc.datasets.currentPupils.records.map((r) => r.attributes.Id)).toEqual(['1', '2', '3']);
    expect(doc.datasets.currentPupils.records[2]!.children).toEqual([
      { name: 'Title', attributes: {}, children: [] },
    ]);
    expect(doc.datasets.currentPupils.findings.map((f) => f.code)).toEqual(['ISAMS_DUPLICATE_CONTAINER']);
    expect(doc.datasets.contacts).toMatchObject({ present: true, records: [] });
    expect(doc.datasets.teachingSets).toMatchObject({ present: true, records: [] });
    expect(doc.datasets.teachingSetLists).toMatchObject({ present: true, records: [] });
    expect(doc.unknownContainers).toEqual(['PupilManager/Siblings']);
  });

  it('keeps numbers as their source text and tolerates a BOM', async () => {
    const json =
      '\uFEFF{"iSAMS":{"HRManager":{"CurrentStaff":{"StaffMember":{"@Id":12345678901234567890,"TeachingStaff":1}}}}}';
    const doc = await parseBatchDocument(json, { format: 'json' });
    const staff = doc.datasets.currentStaff.records[0]!;
    expect(staff.attributes.Id).toBe('12345678901234567890');
    expect(staff.children[0]!.text).toBe('1');
  });

  it('never yields end for a truncated JSON document', async () => {
    const bytes = Buffer.from(sketch);
    for (let cut = 0; cut < bytes.length; cut += 13) {
      const types: string[] = [];
      const err = await errorOf(
        (async () => {
          for await (const e of streamBatchDocument(chunks(bytes.subarray(0, cut), 4), { format: 'json' }))
            types.push(e.type);
        })(),
      );
      expect(types).not.toContain('end');
      expect(['ISAMS_TRUNCATED_DOCUMENT']).toContain(err.code);
    }
  });

  it('rejects malformed JSON', async () => {
    for (const bad of [
      '{"iSAMS":{]}',
      '{"iSAMS":{}} x',
      '[1,2]',
      '{"a" "b"}',
      '{"iSAMS":{"A":[1,]}}',
      '{"iSAMS":{"A":1,}}',
    ]) {
      expect((await errorOf(collect(bad, 'json'))).code).toBe('ISAMS_MALFORMED_DOCUMENT');
    }
  });

  it('classifies a JSON error document', async () => {
    const json =
      '{"?xml":{"@version":"1.0","@encoding":"utf-16"},"Message":{"MessageId":"InvalidApiKey","MessageName":"InvalidApiKey","Title":"Invalid API Key","Description":"The API key is invalid."}}';
    const err = await errorOf(collect(json, 'json'));
    expect(err.code).toBe('ISAMS_INVALID_KEY');
  });
});
