import { describe, expect, it } from 'vitest';
import { streamBatchDocument } from '@isams-sync/isams';
import type { DatasetId, Finding, RawElement } from '@isams-sync/isams';
import { diff } from '../../src/domain/diff';
import { normalise } from '../../src/domain/normalise';
import { storedOf } from '../support/stored-roster';

/**
 * An element inside a dataset's container that is not the dataset's row (`<Pupl Id="2">` beside the
 * `<Pupil>` rows; in JSON a key beside "Pupil") may be a damaged or unrecognised row: the pupil it
 * names may still be in iSAMS. From the bytes of the document through the library's reader to the
 * roster's normalise and diff, it must never plan that pupil's removal.
 */

const asOf = new Date('2026-01-10T00:00:00Z');

const xmlPupil = (id: string, name = 'Pupil') =>
  `<${name} Id="${id}" PersonId="8${id}"><SchoolId>10${id}</SchoolId><Forename>P${id}</Forename><Surname>Q${id}</Surname></${name}>`;
const xml = (rows: string) =>
  `<?xml version="1.0" encoding="utf-8"?><iSAMS><PupilManager><CurrentPupils>${rows}</CurrentPupils></PupilManager></iSAMS>`;

const jsonPupil = (id: string) => ({
  '@Id': id,
  '@PersonId': `8${id}`,
  SchoolId: `10${id}`,
  Forename: `P${id}`,
  Surname: `Q${id}`,
});
const json = (container: Record<string, unknown>) =>
  JSON.stringify({ iSAMS: { PupilManager: { CurrentPupils: container } } });

async function* once(text: string): AsyncGenerator<string> {
  yield text;
}

/** What the connector passes on from one document: its records per dataset and its findings. */
async function read(doc: string, format: 'xml' | 'json') {
  const datasets: Partial<Record<DatasetId, RawElement[]>> = {};
  const findings: Finding[] = [];
  let ended = false;
  for await (const e of streamBatchDocument(once(doc), { format })) {
    if (e.type === 'dataset') datasets[e.datasetId] ??= [];
    else if (e.type === 'record') datasets[e.datasetId]!.push(e.raw);
    else if (e.type === 'finding') findings.push(e.finding);
    else if (e.type === 'end') ended = true;
  }
  expect(ended, 'the document was read to its end').toBe(true);
  return { datasets, findings };
}

/** Stores the roster of `first` (pupils 1 and 2), then normalises and diffs `next` against it. */
async function sync(next: string, format: 'xml' | 'json') {
  const first = await read(xml(xmlPupil('1') + xmlPupil('2')), 'xml');
  const stored = storedOf(normalise({ datasets: first.datasets, asOf }).entities);
  expect([...stored.pupil!.keys()]).toEqual(['1', '2']);
  const parsed = await read(next, format);
  const n = normalise({ datasets: parsed.datasets, asOf });
  const changes = diff(stored, n.entities, n.presentTypes, n).map(
    (c) => `${c.entityType}:${c.change}:${c.entityId}`,
  );
  return { changes, n, parserFindings: parsed.findings };
}

describe('an element that is not a row, inside the pupils container, removes no pupil (parser → normalise → diff)', () => {
  it.each([
    ['XML, a misspelt row element', xml(xmlPupil('1') + xmlPupil('2', 'Pupl')), 'xml', 'Pupl'],
    ['XML, an element of another name', xml(xmlPupil('1') + xmlPupil('2', 'Student')), 'xml', 'Student'],
    ['XML, an empty one', xml(`${xmlPupil('1')}<Pupl/>`), 'xml', 'Pupl'],
    ['JSON, a key beside "Pupil"', json({ Pupil: jsonPupil('1'), Pupl: jsonPupil('2') }), 'json', 'Pupl'],
    [
      'JSON, a list under another key',
      json({ Pupil: [jsonPupil('1')], Pupl: [jsonPupil('2'), jsonPupil('3')] }),
      'json',
      'Pupl',
    ],
    ['JSON, text under another key', json({ Pupil: jsonPupil('1'), Pupl: 'P2' }), 'json', 'Pupl'],
    ['JSON, null under another key', json({ Pupil: jsonPupil('1'), Pupl: null }), 'json', 'Pupl'],
  ] as const)(
    '%s: no removal, removals suspended and the element named',
    async (_case, doc, format, name) => {
      const { changes, n, parserFindings } = await sync(doc, format);
      expect(changes).not.toContain('pupil:removed:2');
      expect(changes).toEqual([]);
      expect(n.suspendedTypes.has('pupil')).toBe(true);
      expect(n.findings.map((f) => f.code)).toContain('ROSTER_REMOVALS_SUSPENDED');
      expect(parserFindings).toContainEqual(
        expect.objectContaining({
          code: 'ISAMS_UNEXPECTED_ELEMENT',
          datasetId: 'currentPupils',
          path: `PupilManager/CurrentPupils/${name}`,
        }),
      );
      // Its fields are not read as a pupil's: pupil 2 is neither updated nor added from them.
      expect(n.entities.pupil.has('2')).toBe(false);
    },
  );

  it.each([
    ['XML', xml(xmlPupil('1') + xmlPupil('2', 'pupil')), 'xml'],
    ['JSON', json({ Pupil: jsonPupil('1'), PUPIL: jsonPupil('2') }), 'json'],
  ] as const)(
    '%s: the row name in another letter case is a row: pupil 2 is read, nothing changes',
    async (_case, doc, format) => {
      const { changes, n } = await sync(doc, format);
      expect(changes).toEqual([]);
      expect(n.suspendedTypes.size).toBe(0);
      expect(n.entities.pupil.get('2')).toMatchObject({ id: '2', forename: 'P2' });
    },
  );

  it('a complete pupils dataset without pupil 2 (nothing damaged) still removes pupil 2', async () => {
    for (const [doc, format] of [
      [xml(`${xmlPupil('1')}<!-- a comment -->`), 'xml'],
      [json({ Pupil: jsonPupil('1'), '#comment': 'x' }), 'json'],
    ] as const) {
      const { changes, n } = await sync(doc, format);
      expect(changes, doc).toEqual(['pupil:removed:2']);
      expect(n.suspendedTypes.size, doc).toBe(0);
    }
  });
});
