import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import {
  assertEveryDataset,
  GENERATED_FILE,
  parseTable,
  readTables,
  renderTables,
} from '../../../tools/codegen/gen-dataset-tables';
import { DATASET_IDS } from '../src/datasets';

const table = (
  fields: string,
  top = 'table: things\ntyped: TypedThing\ndatasets: [yearGroups]\nwhere: A › B\n',
) => `${top}fields:\n${fields}`;

describe('dataset table sources (libs/isams/datasets/*.yaml → src/typed/generated/tables.ts)', () => {
  it('the generated TypeScript is what the YAML sources give today (run `npm run gen:tables` after an edit)', async () => {
    const expected = await renderTables(await readTables());
    expect(await readFile(GENERATED_FILE, 'utf8')).toBe(expected);
  });

  it('every dataset is read with exactly one table', async () => {
    const datasets = (await readTables()).flatMap((t) => t.datasets);
    expect([...datasets].sort()).toEqual([...DATASET_IDS].sort());
  });

  it('keeps a comment above a field as its doc comment, the first field of a nested table too', async () => {
    const source = table(
      '  # The key.\n  id: { kind: id, from: ["@Id"], label: Id, identity: required }\n' +
        '  roles:\n    kind: list\n    from: [Roles, Role]\n    label: Roles\n    item:\n' +
        '      # The role row.\n      id: { kind: id, from: ["@Id"], label: Id }\n',
      '# A thing.\ntable: things\ntyped: TypedThing\ndatasets: [yearGroups]\nwhere: A › B\n',
    );
    const parsed = parseTable('things.yaml', source);
    expect(parsed.doc).toBe('A thing.');
    expect(parsed.fields[0]!.doc).toBe('The key.');
    expect(parsed.fields[1]!.nested![0]!.doc).toBe('The role row.');
    const rendered = await renderTables([parsed]);
    expect(rendered).toContain('/** The key. */');
    expect(rendered).toContain('/** The role row. */');
    expect(rendered).toContain('export type TypedThing = TypedOf<typeof thingsTable.fields>;');
  });

  it.each([
    ['an unknown kind', '  a: { kind: number, from: [A], label: A }\n', /fields\.a: kind must be one of/],
    [
      'an option of another kind',
      '  a: { kind: text, from: [A], label: A, absent: true }\n',
      /absent not allowed on a text field/,
    ],
    [
      'an unknown option',
      '  a: { kind: id, from: [A], label: A, required: true }\n',
      /required not allowed on a id field/,
    ],
    ['no sources', '  a: { kind: text, from: [], label: A }\n', /from must be a list of sources/],
    [
      'a blank label',
      '  a: { kind: text, from: [A], label: "" }\n',
      /fields\.a\.label: expected a non-empty text/,
    ],
    [
      'a list read from one element',
      '  a:\n    kind: list\n    from: [A]\n    label: A\n    item:\n      id: { kind: id, from: ["@Id"], label: Id }\n',
      /a list is read from \[Container, Item\]/,
    ],
    [
      'a list without its item table',
      '  a: { kind: list, from: [A, B], label: A }\n',
      /fields\.a\.item: expected a mapping of fields/,
    ],
    [
      'an identity that is neither',
      '  a: { kind: id, from: [A], label: A, identity: always }\n',
      /identity must be required or ifPresent/,
    ],
    [
      'a field name that is not an identifier',
      '  A-b: { kind: text, from: [A], label: A }\n',
      /field names are camelCase identifiers/,
    ],
    [
      'a field given twice',
      '  a: { kind: text, from: [A], label: A }\n  a: { kind: text, from: [B], label: B }\n',
      /things\.yaml: YAML: .*unique/i,
    ],
  ])('refuses %s, naming the file and the field', (_what, fields, message) => {
    expect(() => parseTable('things.yaml', table(fields))).toThrow(message);
  });

  it('refuses an unknown top-level key and a dataset id that does not exist or is read twice', async () => {
    const field = '  id: { kind: id, from: ["@Id"], label: Id }\n';
    expect(() => parseTable('x.yaml', `extra: 1\n${table(field)}`)).toThrow(
      /x\.yaml: top level: unknown key extra/,
    );
    const unknown = parseTable(
      'x.yaml',
      table(field, 'table: x\ntyped: TypedX\ndatasets: [pupils]\nwhere: A\n'),
    );
    await expect(renderTables([unknown])).rejects.toThrow(/x\.yaml: datasets: pupils is not a dataset id/);
    const first = parseTable('a.yaml', table(field));
    const second = parseTable(
      'b.yaml',
      table(field, 'table: b\ntyped: TypedB\ndatasets: [yearGroups]\nwhere: A\n'),
    );
    expect(() => assertEveryDataset([first])).toThrow(
      /no table reads currentStaff, contacts, .*: add libs\/isams\/datasets\/<name>\.yaml/,
    );
    await expect(renderTables([first, second])).rejects.toThrow(
      /b\.yaml: datasets: yearGroups is already read with a\.yaml/,
    );
  });
});
