import { describe, expect, it } from 'vitest';
import { parseBatchDocument } from '../src/parser/parse-batch-document';
import { DATASET_IDS, DATASETS } from '../src/datasets';
import type { RawElement } from '../src/raw-element';
import { toTyped } from '../src/typed/to-typed';
import { toJsonValue } from '../bench/generate-large-document';
import { fixture } from './helpers';

/** Json.NET loses the relative order of differently named siblings; compare sorted by name. */
function normalise(e: RawElement): unknown {
  return {
    name: e.name,
    attributes: e.attributes,
    text: e.text,
    children: [...e.children]
      .map(normalise)
      .sort((a, b) => ((a as { name: string }).name < (b as { name: string }).name ? -1 : 1)),
  };
}

describe('XML and JSON of the same document give the same records', () => {
  it('round-trips the whole reference sample through the Json.NET mapping', async () => {
    const xml = await parseBatchDocument(fixture('reference-sample.xml'), { format: 'xml' });
    const modules: Record<string, Record<string, unknown>> = {};
    for (const id of DATASET_IDS) {
      const { module, container, row } = DATASETS[id];
      const rows = xml.datasets[id].records.map(toJsonValue);
      (modules[module] ??= {})[container] = { [row]: rows.length === 1 ? rows[0] : rows };
    }
    const json = await parseBatchDocument(JSON.stringify({ iSAMS: modules }), { format: 'json' });
    for (const id of DATASET_IDS) {
      expect(json.datasets[id].records.map(normalise)).toEqual(xml.datasets[id].records.map(normalise));
      expect(json.datasets[id].records.map((r) => toTyped(id, r))).toEqual(
        xml.datasets[id].records.map((r) => toTyped(id, r)),
      );
    }
  });
});
