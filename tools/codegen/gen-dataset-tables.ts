/**
 * Generates the TypeScript of the iSAMS dataset tables from their YAML sources in
 * `libs/isams/datasets/*.yaml` into `libs/isams/src/typed/generated/tables.ts`: one `defineTable`
 * constant and one typed-record alias per table, `DATASET_TABLES` (dataset → table) and the
 * `TypedRecord`/`TypedFieldPath` helpers. The typed reader and the roster's normaliser work from it.
 *
 *   npm run gen:tables                                   # rewrite the generated file
 *   tsx tools/codegen/gen-dataset-tables.ts --out /tmp/x.ts   # generate elsewhere (staleness checks)
 *
 * Like the gRPC types, the output is not committed (.gitignore): the root `postinstall` runs this on
 * every `npm ci`/`npm install`, and the Dockerfile's build stage runs it before bundling. After
 * editing a table, run `npm run gen:tables` (libs/isams's `dataset-table-sources.test.ts` fails while
 * the output is stale).
 *
 * A table is data: every field is one line (`key: { kind, from, label, … }`), lists and groups nest
 * their own fields. The sources are checked here, with the file and field named in the error: an
 * unknown key or kind, an option that does not belong to the kind, a list or group whose `from` is
 * not its element path, a dataset that is not in `DATASET_IDS`, read twice or by no table (the
 * generated `satisfies Record<DatasetId, DatasetTable>` holds the compiler to the same). See docs/development.md › Adding a
 * dataset.
 */
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { format, resolveConfig } from 'prettier';
import { isMap, isScalar, parseDocument } from 'yaml';
import type { Pair, YAMLMap } from 'yaml';
import { DATASET_IDS } from '../../libs/isams/src/datasets';

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const TABLES_DIR = join(REPO_ROOT, 'libs/isams/datasets');
export const GENERATED_FILE = join(REPO_ROOT, 'libs/isams/src/typed/generated/tables.ts');

const KINDS = ['text', 'id', 'bool', 'date', 'emails', 'texts', 'list', 'group'] as const;
type Kind = (typeof KINDS)[number];
/** The options each kind takes beside `kind`, `from`, `label` and `fix`. */
const OPTIONS: Record<Kind, readonly string[]> = {
  text: ['identity'],
  id: ['identity'],
  date: ['identity'],
  bool: ['absent'],
  emails: [],
  texts: [],
  list: ['item'],
  group: ['fields'],
};
const IDENTITY = ['required', 'ifPresent'];

interface Field {
  readonly name: string;
  readonly doc: string | undefined;
  readonly kind: Kind;
  readonly from: readonly string[];
  readonly label: string;
  readonly fix?: string;
  readonly identity?: string;
  readonly absent?: boolean;
  readonly nested?: readonly Field[];
}

interface Table {
  readonly file: string;
  readonly doc: string | undefined;
  /** `houses` → constant `housesTable`. */
  readonly table: string;
  /** The typed record's name, e.g. `TypedHouse`. */
  readonly typed: string;
  readonly datasets: readonly string[];
  readonly where: string;
  readonly fields: readonly Field[];
}

class TableError extends Error {
  constructor(file: string, where: string, message: string) {
    super(`${file}: ${where}: ${message}`);
  }
}

/** Comments before a map's entries: yaml puts the first entry's on the map itself. */
function commentOf(map: YAMLMap, index: number): string | undefined {
  const pair = map.items[index] as Pair;
  const key = pair.key as { commentBefore?: string | null };
  const text = key.commentBefore ?? (index === 0 ? map.commentBefore : undefined);
  return text ? text.replace(/^ /gm, '') : undefined;
}

function text(file: string, at: string, value: unknown): string {
  if (typeof value !== 'string' || value.trim() === '')
    throw new TableError(file, at, 'expected a non-empty text');
  return value;
}

function readField(file: string, at: string, name: string, node: unknown, doc: string | undefined): Field {
  if (!isMap(node)) throw new TableError(file, at, 'expected a mapping { kind, from, label, … }');
  const spec = node.toJSON() as Record<string, unknown>;
  const kind = spec.kind as Kind;
  if (!KINDS.includes(kind)) throw new TableError(file, at, `kind must be one of ${KINDS.join(', ')}`);
  const allowed = ['kind', 'from', 'label', 'fix', ...OPTIONS[kind]];
  const unknown = Object.keys(spec).filter((k) => !allowed.includes(k));
  if (unknown.length > 0)
    throw new TableError(file, at, `${unknown.join(', ')} not allowed on a ${kind} field`);
  const from = spec.from;
  if (!Array.isArray(from) || from.length === 0)
    throw new TableError(file, at, 'from must be a list of sources');
  from.forEach((s, i) => text(file, `${at}.from[${i}]`, s));
  if (kind === 'list' && from.length !== 2)
    throw new TableError(file, at, 'a list is read from [Container, Item]');
  if (kind === 'group' && from.length !== 1) throw new TableError(file, at, 'a group is read from [Element]');
  if (spec.identity !== undefined && !IDENTITY.includes(spec.identity as string)) {
    throw new TableError(file, at, `identity must be ${IDENTITY.join(' or ')}`);
  }
  if (spec.absent !== undefined && typeof spec.absent !== 'boolean') {
    throw new TableError(file, at, 'absent must be true or false');
  }
  const sub = kind === 'list' ? 'item' : kind === 'group' ? 'fields' : undefined;
  return {
    name,
    doc,
    kind,
    from: from as string[],
    label: text(file, `${at}.label`, spec.label),
    ...(spec.fix !== undefined ? { fix: text(file, `${at}.fix`, spec.fix) } : {}),
    ...(spec.identity !== undefined ? { identity: spec.identity as string } : {}),
    ...(spec.absent !== undefined ? { absent: spec.absent as boolean } : {}),
    ...(sub ? { nested: readFields(file, `${at}.${sub}`, node.get(sub)) } : {}),
  };
}

function readFields(file: string, at: string, node: unknown): Field[] {
  if (!isMap(node) || node.items.length === 0) throw new TableError(file, at, 'expected a mapping of fields');
  return node.items.map((pair, i) => {
    const key = pair.key;
    if (!isScalar(key) || typeof key.value !== 'string' || !/^[a-z][A-Za-z0-9]*$/.test(key.value)) {
      throw new TableError(file, at, `field names are camelCase identifiers (${String(pair.key)})`);
    }
    return readField(file, `${at}.${key.value}`, key.value, pair.value, commentOf(node, i));
  });
}

/** Reads and checks one table source. */
export function parseTable(file: string, source: string): Table {
  const doc = parseDocument(source, { uniqueKeys: true });
  if (doc.errors.length > 0) throw new TableError(file, 'YAML', doc.errors[0]!.message);
  const root = doc.contents;
  if (!isMap(root)) throw new TableError(file, 'top level', 'expected a mapping');
  const top = root.toJSON() as Record<string, unknown>;
  const extra = Object.keys(top).filter(
    (k) => !['table', 'typed', 'datasets', 'where', 'fields'].includes(k),
  );
  if (extra.length > 0) throw new TableError(file, 'top level', `unknown key ${extra.join(', ')}`);
  const table = text(file, 'table', top.table);
  const typed = text(file, 'typed', top.typed);
  if (!/^[a-z][A-Za-z0-9]*$/.test(table)) throw new TableError(file, 'table', 'expected a camelCase name');
  if (!/^Typed[A-Z][A-Za-z0-9]*$/.test(typed)) throw new TableError(file, 'typed', 'expected TypedSomething');
  const datasets = top.datasets;
  if (!Array.isArray(datasets) || datasets.length === 0) {
    throw new TableError(file, 'datasets', 'expected the list of dataset ids read with this table');
  }
  datasets.forEach((d, i) => text(file, `datasets[${i}]`, d));
  return {
    file,
    doc: doc.commentBefore ?? commentOf(root, 0),
    table,
    typed,
    datasets: datasets as string[],
    where: text(file, 'where', top.where),
    fields: readFields(file, 'fields', root.get('fields')),
  };
}

function jsDoc(doc: string | undefined, indent: string): string {
  if (!doc) return '';
  const lines = doc.replace(/^ /gm, '').split('\n');
  if (lines.length === 1) return `${indent}/** ${lines[0]} */\n`;
  return `${indent}/**\n${lines.map((l) => `${indent} *${l ? ` ${l}` : ''}`).join('\n')}\n${indent} */\n`;
}

const lit = (s: string): string => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;

function fieldsSource(fields: readonly Field[], indent: string): string {
  return fields
    .map((f) => {
      const props = [
        `kind: ${lit(f.kind)}`,
        `from: [${f.from.map(lit).join(', ')}]`,
        `label: ${lit(f.label)}`,
      ];
      if (f.fix !== undefined) props.push(`fix: ${lit(f.fix)}`);
      if (f.identity !== undefined) props.push(`identity: ${lit(f.identity)}`);
      if (f.absent !== undefined) props.push(`absent: ${String(f.absent)}`);
      if (f.nested) {
        const sub = f.kind === 'list' ? 'item' : 'fields';
        props.push(`${sub}: {\n${fieldsSource(f.nested, `${indent}  `)}${indent}}`);
      }
      return `${jsDoc(f.doc, indent)}${indent}${f.name}: { ${props.join(', ')} },\n`;
    })
    .join('');
}

/** The generated module for the given tables (sorted by file), formatted with the repo's prettier. */
export async function renderTables(tables: readonly Table[]): Promise<string> {
  const seen = new Map<string, Table>();
  for (const t of tables) {
    for (const d of t.datasets) {
      if (!(DATASET_IDS as readonly string[]).includes(d)) {
        throw new TableError(t.file, 'datasets', `${d} is not a dataset id (libs/isams/src/datasets.ts)`);
      }
      if (seen.has(d))
        throw new TableError(t.file, 'datasets', `${d} is already read with ${seen.get(d)!.file}`);
      seen.set(d, t);
    }
  }
  const parts = [
    '// Generated by tools/codegen/gen-dataset-tables.ts from libs/isams/datasets/*.yaml — do not edit;',
    '// edit the YAML and run `npm run gen:tables` (docs/development.md › Adding an iSAMS dataset).',
    "import type { DatasetId } from '../../datasets';",
    "import { defineTable } from '../table';",
    "import type { DatasetTable, FieldPath, TypedOf } from '../table';",
    '',
  ];
  for (const t of tables) {
    parts.push(
      `${jsDoc(`${t.doc ?? ''}\n(${basename(t.file)})`.trim(), '')}export const ${t.table}Table = defineTable({`,
      `  where: ${lit(t.where)},`,
      `  fields: {\n${fieldsSource(t.fields, '    ')}  },`,
      '});',
      '',
      `export type ${t.typed} = TypedOf<typeof ${t.table}Table.fields>;`,
      '',
    );
  }
  // In DATASET_IDS order, as the datasets are listed everywhere else.
  const entries = DATASET_IDS.filter((d) => seen.has(d)).map((d) => `  ${d}: ${seen.get(d)!.table}Table,`);
  parts.push(
    '/** The declarative table of every dataset (a table may serve several, e.g. both kinds of house). */',
    `export const DATASET_TABLES = {\n${entries.join('\n')}\n} as const satisfies Record<DatasetId, DatasetTable>;`,
    '',
    "type Fields<D extends DatasetId> = (typeof DATASET_TABLES)[D]['fields'];",
    '',
    "/** The typed record of a dataset, e.g. `TypedRecord<'teachingSets'>` = `TypedSet`. */",
    'export type TypedRecord<D extends DatasetId> = TypedOf<Fields<D>>;',
    '',
    "/** A path of a dataset's typed record that a read can report unreadable (`roles`, `teachers.primaryTeacher`). */",
    'export type TypedFieldPath<D extends DatasetId> = FieldPath<Fields<D>>;',
    '',
  );
  const config = (await resolveConfig(GENERATED_FILE)) ?? {};
  return format(parts.join('\n'), { ...config, filepath: GENERATED_FILE });
}

/** Every table source under `dir`, read and checked, sorted by file name. */
export async function readTables(dir = TABLES_DIR): Promise<Table[]> {
  const files = (await readdir(dir)).filter((f) => f.endsWith('.yaml')).sort();
  return Promise.all(files.map(async (f) => parseTable(f, await readFile(join(dir, f), 'utf8'))));
}

/** Every dataset id must be read with a table: names the ones without (a dataset added in step 1 only). */
export function assertEveryDataset(tables: readonly Table[]): void {
  const covered = new Set(tables.flatMap((t) => t.datasets));
  const missing = DATASET_IDS.filter((d) => !covered.has(d));
  if (missing.length > 0) {
    throw new Error(
      `no table reads ${missing.join(', ')}: add libs/isams/datasets/<name>.yaml (docs/development.md › Adding an iSAMS dataset)`,
    );
  }
}

async function main(): Promise<void> {
  const outIndex = process.argv.indexOf('--out');
  const out = outIndex >= 0 ? resolve(process.argv[outIndex + 1]!) : GENERATED_FILE;
  const tables = await readTables();
  assertEveryDataset(tables);
  const source = await renderTables(tables);
  await mkdir(dirname(out), { recursive: true });
  // Written beside and renamed, so a reader never sees half a file.
  await writeFile(`${out}.tmp`, source);
  await rename(`${out}.tmp`, out);
  if (!process.argv.includes('--quiet')) console.log(`gen:tables: ${tables.length} tables → ${out}`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main().catch((err: unknown) => {
    console.error(`gen:tables: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
