import { describe, expect, it } from 'vitest';
import { parseBatchDocument } from '../src/parser/parse-batch-document';
import { renderMessageDocument, ISAMS_MESSAGES } from '../src/isams-messages';
import { DATASET_IDS } from '../src/datasets';
import { chunks, collect, errorOf, expectReferenceTeachingSet, fixture } from './helpers';

const sample = fixture('reference-sample.xml');

describe('streamBatchDocument (XML): records, read losslessly', () => {
  it('reads every dataset of the reference sample by full path, in any chunking', async () => {
    for (const size of [1, 3, 64, 100_000]) {
      const doc = await parseBatchDocument(chunks(sample, size), { format: 'xml' });
      const counts = Object.fromEntries(DATASET_IDS.map((id) => [id, doc.datasets[id].records.length]));
      expect(counts).toEqual({
        currentStaff: 2,
        contacts: 1,
        currentPupils: 2,
        customGroupMembership: 2,
        customGroups: 1,
        academicHouses: 1,
        boardingHouses: 1,
        schoolForms: 1,
        schoolDivisions: 1,
        yearGroups: 1,
        departmentsAndSubjects: 2,
        teachingForms: 1,
        teachingSets: 1,
        teachingSetLists: 1,
      });
      expect(DATASET_IDS.every((id) => doc.datasets[id].present)).toBe(true);
      expect(DATASET_IDS.flatMap((id) => doc.datasets[id].findings)).toEqual([]);
    }
  });

  it('keeps records lossless: attributes, whitespace-only leaf text, empty elements, nested rows', async () => {
    const doc = await parseBatchDocument(sample, { format: 'xml' });
    const set = doc.datasets.teachingSets.records[0]!;
    // SubjectId first: the one `expectReferenceTeachingSet` checks is children[0].
    expect(set.children.map((c) => c.name)).toEqual([
      'SubjectId',
      'YearId',
      'Teacher',
      'Author',
      'SetNumber',
      'Block',
      'SetCode',
      'Name',
      'Teachers',
      'Description',
      'LastUpdated',
    ]);
    const teachers = expectReferenceTeachingSet(set);
    expect(teachers.text).toBeUndefined();
    expect(teachers.children).toHaveLength(2);
    // Years/Year rows only; SchoolDivisions/…/Years/Year is not a year group.
    expect(doc.datasets.yearGroups.records.map((r) => r.attributes.Id)).toEqual(['9']);
  });

  it('keeps whitespace-only values and decodes entities', async () => {
    const xml =
      '<iSAMS><HRManager><CurrentStaff><StaffMember Id="1"><Initials>&#x20;</Initials><FullName>  &#x20;</FullName><Surname>O&apos;Neil &amp; Co</Surname></StaffMember></CurrentStaff></HRManager></iSAMS>';
    const doc = await parseBatchDocument(xml, { format: 'xml' });
    const staff = doc.datasets.currentStaff.records[0]!;
    expect(staff.children.map((c) => c.text)).toEqual([' ', '   ', "O'Neil & Co"]);
  });
});

describe('streamBatchDocument (XML): containers and the variations iSAMS sends', () => {
  it('distinguishes absent and empty containers and reports unknown ones', async () => {
    const xml =
      '<iSAMS><TeachingManager><Sets /><Extra><X/></Extra></TeachingManager><PupilManager><Siblings><Pupil Id="1"/></Siblings></PupilManager></iSAMS>';
    const events = await collect(xml);
    expect(events).toContainEqual({
      type: 'dataset',
      datasetId: 'teachingSets',
      present: true,
      occurrence: 1,
    });
    expect(events).toContainEqual({ type: 'dataset-end', datasetId: 'teachingSets', count: 0, total: 0 });
    const end = events.at(-1)!;
    expect(end.type).toBe('end');
    if (end.type !== 'end') return;
    expect(end.absent).toHaveLength(13);
    expect(end.absent).not.toContain('teachingSets');
    expect(end.unknownContainers).toEqual(['TeachingManager/Extra', 'PupilManager/Siblings']);
  });

  it('tolerates module/container order, case differences, a BOM, the utf-16 declaration and comments', async () => {
    const xml =
      '\uFEFF<?xml version="1.0" encoding="utf-16"?>\n<!-- c --><ISAMS><teachingmanager><SETLISTS><setlist Id="2" SetId="5" PupilId="9"/></SETLISTS>' +
      '<Sets><Set Id="5"/></Sets></teachingmanager><HRManager><CurrentStaff><StaffMember Id="1"/></CurrentStaff></HRManager></ISAMS>';
    const doc = await parseBatchDocument(xml, { format: 'xml' });
    expect(doc.datasets.teachingSetLists.records[0]!.attributes).toEqual({
      Id: '2',
      SetId: '5',
      PupilId: '9',
    });
    expect(doc.datasets.teachingSets.records).toHaveLength(1);
    expect(doc.datasets.currentStaff.records).toHaveLength(1);
  });

  it('reads a document whose XML declaration comes after white space (a blank line written before it), in any chunking', async () => {
    const xml =
      '<?xml version="1.0" encoding="utf-8"?>\r\n<iSAMS><HRManager><CurrentStaff><StaffMember Id="1"><Surname>Ångström</Surname></StaffMember></CurrentStaff></HRManager></iSAMS>';
    for (const lead of ['\r\n', '\n\n', ' \t\r\n', '\uFEFF\r\n'])
      for (const size of [1, 3, 4096]) {
        const doc = await parseBatchDocument(chunks(Buffer.from(lead + xml, 'utf8'), size), {
          format: 'xml',
        });
        expect(doc.datasets.currentStaff.records[0]!.children[0]!.text).toBe('Ångström');
      }
  });

  it('reads genuine UTF-16 LE and BE with BOMs', async () => {
    const xml =
      '<?xml version="1.0" encoding="utf-16"?><iSAMS><HRManager><CurrentStaff><StaffMember Id="1"><Surname>Ångström</Surname></StaffMember></CurrentStaff></HRManager></iSAMS>';
    const le = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(xml, 'utf16le')]);
    const be = Buffer.from(le);
    for (let i = 0; i < be.length; i += 2) [be[i], be[i + 1]] = [be[i + 1]!, be[i]!];
    for (const bytes of [le, be]) {
      const doc = await parseBatchDocument(chunks(bytes, 3), { format: 'xml' });
      expect(doc.datasets.currentStaff.records[0]!.children[0]!.text).toBe('Ångström');
    }
  });

  it('reads BOM-less UTF-16 LE and BE that starts with whitespace, XML and JSON, in any chunking', async () => {
    const xml =
      '\r\n  <iSAMS><HRManager><CurrentStaff><StaffMember Id="1"><Surname>Ångström</Surname></StaffMember></CurrentStaff></HRManager></iSAMS>';
    const json =
      ' \t{"iSAMS":{"HRManager":{"CurrentStaff":{"StaffMember":{"@Id":"1","Surname":"Ångström"}}}}}';
    for (const [text, format] of [
      [xml, 'xml'],
      [json, 'json'],
    ] as const) {
      const le = Buffer.from(text, 'utf16le');
      const be = Buffer.from(le);
      for (let i = 0; i < be.length; i += 2) [be[i], be[i + 1]] = [be[i + 1]!, be[i]!];
      for (const bytes of [le, be])
        for (const size of [1, 3, 4096]) {
          const doc = await parseBatchDocument(chunks(bytes, size), { format });
          expect(doc.datasets.currentStaff.records[0]!.children[0]!.text, `${format} ${size}`).toBe(
            'Ångström',
          );
        }
    }
  });

  it('reports two sibling containers of the same dataset and keeps all rows', async () => {
    const xml =
      '<iSAMS><PupilManager><CurrentPupils><Pupil Id="1"/></CurrentPupils><CurrentPupils><Pupil Id="2"/><Pupil Id="2"/></CurrentPupils></PupilManager></iSAMS>';
    const events = await collect(xml);
    expect(events.filter((e) => e.type === 'dataset')).toHaveLength(2);
    expect(events).toContainEqual({ type: 'dataset-end', datasetId: 'currentPupils', count: 2, total: 3 });
    const codes = events.flatMap((e) => (e.type === 'finding' ? [e.finding.code] : []));
    expect(codes).toEqual(['ISAMS_DUPLICATE_CONTAINER', 'ISAMS_DUPLICATE_RECORD_ID']);
  });

  it('collects duplicate set memberships and unexpected elements as findings (the latter also a record without identity)', async () => {
    const xml =
      '<iSAMS><TeachingManager><SetLists><SetList Id="1" SetId="5" PupilId="9"/><SetList Id="2" SetId="5" PupilId="9"/><Junk/></SetLists></TeachingManager></iSAMS>';
    const doc = await parseBatchDocument(xml, { format: 'xml' });
    expect(doc.datasets.teachingSetLists.findings.map((f) => f.code)).toEqual([
      'ISAMS_DUPLICATE_SET_MEMBERSHIP',
      'ISAMS_UNEXPECTED_ELEMENT',
      'ISAMS_RECORD_MISSING_ID',
    ]);
    expect(doc.datasets.teachingSetLists.records).toHaveLength(3);
    expect(doc.datasets.teachingSetLists.records[2]).toEqual({ name: 'Junk', attributes: {}, children: [] });
  });
});

describe('streamBatchDocument (XML): cut, malformed, error and oversized documents', () => {
  it('never yields end for a document cut anywhere, and says truncated', async () => {
    expect((await collect(sample, 'xml', 50)).at(-1)!.type).toBe('end');
    const bytes = Buffer.from(sample);
    for (let cut = 0; cut < bytes.length - 1; cut += 37) {
      const events: string[] = [];
      const err = await errorOf(
        (async () => {
          for await (const e of (await import('../src/parser/stream-batch-document')).streamBatchDocument(
            chunks(bytes.subarray(0, cut), 11),
            { format: 'xml' },
          ))
            events.push(e.type);
        })(),
      );
      expect(events).not.toContain('end');
      expect(err.code).toBe('ISAMS_TRUNCATED_DOCUMENT');
    }
  });

  it('rejects non-well-formed and non-iSAMS documents', async () => {
    expect((await errorOf(collect('<iSAMS><A></B></iSAMS>'))).code).toBe('ISAMS_MALFORMED_DOCUMENT');
    expect((await errorOf(collect('<html><body>502 Bad Gateway</body></html>'))).code).toBe(
      'ISAMS_MALFORMED_DOCUMENT',
    );
    expect((await errorOf(collect('<iSAMS></iSAMS>garbage'))).code).toBe('ISAMS_MALFORMED_DOCUMENT');
    expect((await errorOf(collect(''))).code).toBe('ISAMS_TRUNCATED_DOCUMENT');
  });

  it('classifies error documents (utf-16 lie, BOM, CRLF) and never yields end', async () => {
    const cases: [string, string][] = [
      [renderMessageDocument(ISAMS_MESSAGES.invalidApiKey), 'ISAMS_INVALID_KEY'],
      ['\uFEFF' + renderMessageDocument(ISAMS_MESSAGES.deadlock), 'ISAMS_SERVER_BUSY'],
      [renderMessageDocument(ISAMS_MESSAGES.lockTimeout), 'ISAMS_SERVER_BUSY'],
      [
        renderMessageDocument(ISAMS_MESSAGES.methodsNotAllocated, { methods: 'teaching_getteachingsets' }),
        'ISAMS_METHODS_NOT_ALLOCATED',
      ],
      [renderMessageDocument(ISAMS_MESSAGES.filtersRequired, { method: 'X' }), 'ISAMS_ERROR_DOCUMENT'],
      ['<iSAMS><Message><MessageId>InvalidApiKey</MessageId></Message></iSAMS>', 'ISAMS_INVALID_KEY'],
    ];
    for (const [xml, code] of cases) {
      const err = await errorOf(collect(xml));
      expect(err.code).toBe(code);
    }
    const err = await errorOf(
      collect(
        renderMessageDocument(ISAMS_MESSAGES.filtersRequired, { method: 'SchoolReports - GetReports' }),
      ),
    );
    expect(err.details).toMatchObject({ messageId: 'FiltersRequiredException', title: 'Filters Required' });
    expect(err.message).toContain('SchoolReports - GetReports');
  });

  it('enforces maxBytes', async () => {
    const { streamBatchDocument } = await import('../src/parser/stream-batch-document');
    const err = await errorOf(
      (async () => {
        for await (const _ of streamBatchDocument(chunks(sample, 100), { format: 'xml', maxBytes: 1000 }))
          void _;
      })(),
    );
    expect(err.code).toBe('ISAMS_RESPONSE_TOO_LARGE');
  });
});
