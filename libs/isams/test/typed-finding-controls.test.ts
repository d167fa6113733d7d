import { describe, expect, it } from 'vitest';
import { parseBatchDocument } from '../src/parser/parse-batch-document';
import { toTyped } from '../src/typed/to-typed';

// A JSON key is read as an element name; a C0 control in it is shown as U+FFFD in a finding (as the
// XML reader shows a control character), so the finding can be stored and reads the same from either
// endpoint.
describe('typed findings: a JSON key is a name the typed view quotes', () => {
  it('a NUL in a key under AddressLines is not carried into the finding', async () => {
    const json = JSON.stringify({
      iSAMS: {
        PupilManager: {
          Contacts: {
            Contact: [
              {
                '@Id': '500',
                '@PersonId': '5001',
                '@IsFirstPersonContact': 'True',
                Forename: 'Anna',
                Address: { AddressLines: { 'Line\u0000': { X: '1' } } },
              },
            ],
          },
        },
      },
    });
    const doc = await parseBatchDocument(json, { format: 'json' });
    const r = toTyped('contacts', doc.datasets.contacts.records[0]!);
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    expect(r.findings.map((f) => f.field)).toHaveLength(1);
    expect(JSON.stringify(r.findings)).not.toMatch(/\\u0000/);
  });
});
