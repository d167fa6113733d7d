import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { DATASETS, DATASET_IDS } from '../../src/domain/isams-lib';
import type { DatasetId, RawElement } from '../../src/domain/isams-lib';
import { el, toDatasetRows } from '../../src/domain/dataset-rows';
import { layoutDocument } from '../../src/domain/document-layout';
import { generateSchool } from '../../src/domain/generate-school';
import { elementToJsonValue, renderJson } from '../../src/domain/json-serializer';
import { elementToXml, renderXml } from '../../src/domain/xml-serializer';
import { readXml, rowsFromDocument } from '../../src/domain/xml-reader';
import { canonical, jsonToElements } from '../support/raw-compare';

const all = new Set(DATASET_IDS);

describe('XML serializer', () => {
  it('escapes text and attributes and entity-encodes a trailing space', () => {
    const e = el('Set', { Name: 'A "B" & <C>' }, undefined, [
      el('Description', {}, 'x < y & z > w'),
      el('Initials', {}, ' '),
      el('FullName', {}, '   '),
    ]);
    expect(elementToXml(e)).toBe(
      '<Set Name="A &quot;B&quot; &amp; &lt;C>"><Description>x &lt; y &amp; z &gt; w</Description><Initials>&#x20;</Initials><FullName>  &#x20;</FullName></Set>',
    );
  });

  it('writes empty strings as empty elements, omits NULLs and keeps Legacy attributes', () => {
    const e = el('Form', { Id: '9W', TutorId: undefined }, undefined, [
      el('Tutor', { Legacy: 'True' }, ''),
      el('Website', {}, ''),
    ]);
    expect(elementToXml(e)).toBe('<Form Id="9W"><Tutor Legacy="True" /><Website /></Form>');
  });

  it('writes allocated empty datasets as empty containers and leaves unallocated ones out', () => {
    const rows = { ...toDatasetRows(generateSchool(1, 'small')), teachingSets: [] } as Record<
      DatasetId,
      RawElement[]
    >;
    const xml = [
      ...renderXml(layoutDocument(rows, new Set<DatasetId>(['teachingSets', 'yearGroups']), DATASET_IDS)),
    ].join('');
    expect(xml).toContain('<Sets />');
    expect(xml).not.toContain('<CurrentPupils');
    expect(xml.startsWith('<iSAMS>')).toBe(true);
  });

  it.each(['small'] as const)('round-trips every dataset of a %s school exactly', (size) => {
    const rows = toDatasetRows(generateSchool(9, size));
    const back = rowsFromDocument(readXml([...renderXml(layoutDocument(rows, all, DATASET_IDS))].join('')));
    for (const d of DATASET_IDS) expect(isDeepStrictEqual(back[d], rows[d]), d).toBe(true);
  });
});

describe('JSON serializer (Json.NET conventions)', () => {
  it('maps attributes to @, text-with-attributes to #text, empty to null and repeats to arrays', () => {
    const e = el('Set', { Id: '501' }, undefined, [
      el('SubjectId', { Legacy: 'True' }, '21'),
      el('Author', { Legacy: 'True' }, ''),
      el('Description', {}, ''),
      el('Name', {}, '9/Ma1'),
      el('Teachers', {}, undefined, [el('Teacher', { Id: '801', StaffId: '12', PrimaryTeacher: 'True' })]),
    ]);
    expect(elementToJsonValue(e)).toEqual({
      '@Id': '501',
      SubjectId: { '@Legacy': 'True', '#text': '21' },
      Author: { '@Legacy': 'True' },
      Description: null,
      Name: '9/Ma1',
      Teachers: { Teacher: { '@Id': '801', '@StaffId': '12', '@PrimaryTeacher': 'True' } },
    });
    const two = el('Teachers', {}, undefined, [el('Teacher', { Id: '1' }), el('Teacher', { Id: '2' })]);
    expect(elementToJsonValue(two)).toEqual({ Teacher: [{ '@Id': '1' }, { '@Id': '2' }] });
  });

  it('renders a single row as an object and an empty container as null', () => {
    const rows = toDatasetRows(generateSchool(1, 'small'));
    const doc = JSON.parse(
      [
        ...renderJson(
          layoutDocument(
            { ...rows, teachingSets: [], yearGroups: rows.yearGroups.slice(0, 1) },
            new Set<DatasetId>(['teachingSets', 'yearGroups']),
            DATASET_IDS,
          ),
        ),
      ].join(''),
    );
    expect(doc.iSAMS.TeachingManager.Sets).toBeNull();
    expect(Array.isArray(doc.iSAMS.SchoolManager.Years.Year)).toBe(false);
    expect(doc.iSAMS.SchoolManager.Years.Year['@Id']).toBe('-2');
  });

  it('carries every dataset of a small school losslessly (order-insensitive across names)', () => {
    const rows = toDatasetRows(generateSchool(3, 'small'));
    const doc = JSON.parse([...renderJson(layoutDocument(rows, all, DATASET_IDS))].join(''));
    for (const d of DATASET_IDS) {
      const { module, container, row } = DATASETS[d];
      const parsed = jsonToElements(row, doc.iSAMS[module][container][row]);
      expect(isDeepStrictEqual(parsed.map(canonical), rows[d].map(canonical)), d).toBe(true);
    }
  });
});
