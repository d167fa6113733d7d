import { describe, expect, it } from 'vitest';
import { DATASETS } from '../src/datasets';
import { parseBatchDocument } from '../src/parser/parse-batch-document';
import { collect } from './helpers';

// Contacts (Filtered)'s method name is unknown (reference §5), so the connector may send several
// candidate names; its container is `PupilManager/Contacts` whichever method wrote it. Two accepted
// candidates give two sibling `Contacts` containers: read as two occurrences of one dataset, a
// contact repeated across them reported as a duplicate (the roster reconciles repeats by id).

const contact = (id: string, personId: string, first: string) =>
  `<Contact Id="${id}" PersonId="${personId}" IsFirstPersonContact="${first}"><Surname>Novak</Surname></Contact>`;
const doc = (...containers: string[]) => `<iSAMS><PupilManager>${containers.join('')}</PupilManager></iSAMS>`;

describe('the Contacts container', () => {
  it('is the one container name of the dataset (no candidate names are merged into it)', async () => {
    expect(DATASETS.contacts).toMatchObject({
      module: 'PupilManager',
      container: 'Contacts',
      row: 'Contact',
    });
    const events = await collect(
      doc(
        `<FilteredContacts>${contact('1', '11', 'True')}</FilteredContacts>`,
        `<Contacts>${contact('2', '21', 'True')}</Contacts>`,
      ),
    );
    expect(
      events.filter((e) => e.type === 'record').map((e) => e.type === 'record' && e.raw.attributes.Id),
    ).toEqual(['2']);
    expect(events.at(-1)).toMatchObject({
      type: 'end',
      unknownContainers: ['PupilManager/FilteredContacts'],
    });
  });

  it('one container: its records, no duplicate findings (the two people of a joint record share an Id)', async () => {
    const parsed = await parseBatchDocument(
      doc(
        `<Contacts>${contact('1', '11', 'True')}${contact('1', '12', 'False')}${contact('2', '21', 'True')}</Contacts>`,
      ),
      { format: 'xml' },
    );
    expect(parsed.datasets.contacts.records).toHaveLength(3);
    expect(parsed.datasets.contacts.findings).toEqual([]);
  });

  it('two sibling containers (two candidate methods accepted): both read, the repeated contact reported', async () => {
    for (const [text, format] of [
      [
        doc(
          `<Contacts>${contact('1', '11', 'True')}${contact('2', '21', 'True')}</Contacts>`,
          `<Contacts>${contact('2', '21', 'True')}${contact('3', '31', 'True')}</Contacts>`,
        ),
        'xml',
      ],
      [
        JSON.stringify({
          iSAMS: {
            PupilManager: {
              Contacts: [
                {
                  Contact: [1, 2].map((n) => ({
                    '@Id': `${n}`,
                    '@PersonId': `${n}1`,
                    '@IsFirstPersonContact': 'True',
                  })),
                },
                {
                  Contact: [2, 3].map((n) => ({
                    '@Id': `${n}`,
                    '@PersonId': `${n}1`,
                    '@IsFirstPersonContact': 'True',
                  })),
                },
              ],
            },
          },
        }),
        'json',
      ],
    ] as const) {
      const events = await collect(text, format);
      expect(
        events.filter((e) => e.type === 'dataset' || e.type === 'dataset-end'),
        format,
      ).toEqual([
        { type: 'dataset', datasetId: 'contacts', present: true, occurrence: 1 },
        { type: 'dataset-end', datasetId: 'contacts', count: 2, total: 2 },
        { type: 'dataset', datasetId: 'contacts', present: true, occurrence: 2 },
        { type: 'dataset-end', datasetId: 'contacts', count: 2, total: 4 },
      ]);
      const findings = events.flatMap((e) => (e.type === 'finding' ? [e.finding] : []));
      expect(
        findings.map((f) => `${f.code} ${f.recordId ?? ''}`),
        format,
      ).toEqual(['ISAMS_DUPLICATE_CONTAINER ', 'ISAMS_DUPLICATE_RECORD_ID 2']);
      expect(events.at(-1)?.type).toBe('end');
    }
  });
});
