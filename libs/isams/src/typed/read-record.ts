import type { RawElement } from '../raw-element';
import { child, clean } from './raw-access';
import {
  ABSENT,
  BLANK,
  NOT_TEXT,
  Unreadable,
  checkIdLength,
  childrenNamed,
  isText,
  parseBool,
  parseDate,
  parseId,
  readSource,
} from './read-value';
import type { FieldSpec, FieldTable, GroupField, ListField } from './table';

/** A value that could not be read, before it is turned into a finding (the record id is known only then). */
export interface ReadProblem {
  /** Source path relative to the row, e.g. `TeachingStaff`, `Roles/Role/@Id`. */
  source: string;
  /** The field's administrator label. */
  label: string;
  kind: FieldSpec['kind'];
  /** What is wrong, e.g. `is "Y", not a yes/no value`; never contains personal data. */
  problem: string;
  fix?: string;
  /** Set when a later source was read instead (the field is not unreadable then). */
  usedInstead?: string;
  /** The list item concerned (`Teacher 801`, `Role #2`), for problems inside a list. */
  item?: string;
  /** The list item was left out: its identity could not be read. */
  dropped?: boolean;
  /** The value holds characters that are not text (invalid UTF-8): it has to be retyped. */
  notText?: boolean;
}

/** What reading one element with a table gave. */
export interface TableRead {
  value: Record<string, unknown>;
  /** Field paths (`teachingStaff`, `roles`, `teachers.primaryTeacher`) that could not be read. */
  unreadable: string[];
  problems: ReadProblem[];
  /** The first identity field that is missing or unreadable, if any: the element cannot be matched. */
  identity?: ReadProblem & { missing: boolean; field: string };
}

const join = (prefix: string, source: string): string => (prefix === '' ? source : `${prefix}/${source}`);

function parse(spec: FieldSpec, text: string): unknown {
  switch (spec.kind) {
    case 'id':
      return parseId(text);
    case 'text':
      // A text identity (a form's Id) is bounded like a numeric one.
      return spec.identity === undefined ? text : checkIdLength(text);
    case 'bool':
      return parseBool(text);
    case 'date':
      return parseDate(text);
    case 'emails':
      return text.split(/[;,\s]+/).filter((e) => e.length > 0);
    default:
      return text;
  }
}

/** What {@link readScalar} found; one scratch object, copied out by the caller before the next call. */
interface ScalarRead {
  value: unknown;
  present: boolean;
  problem: ReadProblem | undefined;
}
const scratch: ScalarRead = { value: undefined, present: false, problem: undefined };

/** A scalar (`text`, `id`, `bool`, `date`, `emails`): the first readable non-blank source wins. */
function readScalar(spec: FieldSpec, el: RawElement, prefix: string): ScalarRead {
  const r = scratch;
  r.value = undefined;
  r.present = false;
  r.problem = undefined;
  for (const source of spec.from) {
    const text = readSource(el, source);
    if (text === ABSENT) continue;
    r.present = true;
    if (text === BLANK) continue;
    const parsed = text instanceof Unreadable ? text : parse(spec, text);
    if (!(parsed instanceof Unreadable)) {
      if (r.problem) r.problem.usedInstead = join(prefix, source);
      r.value = parsed;
      return r;
    }
    r.problem ??= {
      source: join(prefix, source),
      label: spec.label,
      kind: spec.kind,
      problem: parsed.problem,
      ...(parsed.notText ? { notText: true } : spec.fix ? { fix: spec.fix } : {}),
    };
  }
  // A bit column is never an empty string: a blank yes/no value cannot be read.
  if (r.problem === undefined && r.present && spec.kind === 'bool')
    r.problem = {
      source: join(prefix, spec.from[0]!),
      label: spec.label,
      kind: 'bool',
      problem: 'is blank, not a yes/no value (1/0 or True/False)',
      ...(spec.fix ? { fix: spec.fix } : {}),
    };
  return r;
}

/** `texts`: every child of the source element, trimmed, blanks dropped. */
function readTexts(
  spec: FieldSpec,
  el: RawElement,
  prefix: string,
): { value: string[]; problem?: ReadProblem } {
  let container: RawElement | undefined = el;
  for (const p of spec.from[0]!.split('/')) container = container && child(container, p);
  if (container === undefined) return { value: [] };
  const lines: string[] = [];
  const unreadable = (
    c: RawElement,
    problem: Pick<ReadProblem, 'problem' | 'notText'>,
  ): { value: string[]; problem: ReadProblem } => ({
    value: [],
    problem: {
      source: join(prefix, `${spec.from[0]}/${c.name}`),
      label: spec.label,
      kind: 'texts',
      ...problem,
    },
  });
  for (const c of container.children) {
    if (c.children.length > 0) return unreadable(c, { problem: 'holds elements instead of a value' });
    if (c.text !== undefined && !isText(c.text))
      return unreadable(c, { problem: NOT_TEXT.problem, notText: true });
    const v = clean(c.text);
    if (v !== undefined) lines.push(v);
  }
  return { value: lines };
}

/** `Teacher 801` by the item's first readable id (never a name), else `Teacher #2` by position. */
function itemName(
  table: FieldTable,
  item: Record<string, unknown>,
  itemElement: string,
  index: number,
): string {
  const idField = Object.keys(table).find((k) => table[k]!.kind === 'id' && typeof item[k] === 'string');
  return idField === undefined ? `${itemElement} #${index + 1}` : `${itemElement} ${String(item[idField])}`;
}

/** `list`: the readable items; items that cannot be identified are left out and the list reported. */
function readList(name: string, spec: ListField, el: RawElement, prefix: string, out: TableRead): unknown[] {
  const [containerName, itemElement] = spec.from;
  const base = join(prefix, `${containerName}/${itemElement}`);
  const items: unknown[] = [];
  let position = 0;
  for (const container of childrenNamed(el, containerName)) {
    const found = childrenNamed(container, itemElement);
    if (found.length === 0 && clean(container.text) !== undefined) {
      out.unreadable.push(name);
      out.problems.push({
        source: join(prefix, containerName),
        label: spec.label,
        kind: 'list',
        problem: `holds text instead of <${itemElement}> entries`,
      });
    }
    for (const itemEl of found) {
      const r = readTable(spec.item, itemEl, base, `${name}.`);
      const label = itemName(spec.item, r.value, itemElement, position++);
      if (r.identity) {
        if (!out.unreadable.includes(name)) out.unreadable.push(name);
        out.problems.push({
          source: r.identity.source,
          label: spec.label,
          kind: 'list',
          item: label,
          dropped: true,
          problem: `has a ${itemElement} whose ${r.identity.label} ${r.identity.missing ? 'is missing' : r.identity.problem}`,
        });
        continue;
      }
      for (const p of r.problems) out.problems.push({ ...p, item: label });
      for (const u of r.unreadable) if (!out.unreadable.includes(u)) out.unreadable.push(u);
      items.push(r.value);
    }
  }
  return items;
}

const entriesOf = new WeakMap<FieldTable, [string, FieldSpec][]>();

/**
 * Reads `el` with `table`. Never throws: a field that cannot be read is left `undefined` (lists keep
 * their readable items) and named in `unreadable` with a {@link ReadProblem}; a missing or unreadable
 * identity field is reported in `identity`. `prefix` is the source path of `el` below the row and
 * `fieldPrefix` the typed path (`teachers.`) of a list item's fields.
 */
export function readTable(table: FieldTable, el: RawElement, prefix = '', fieldPrefix = ''): TableRead {
  const out: TableRead = { value: {}, unreadable: [], problems: [] };
  let entries = entriesOf.get(table);
  if (entries === undefined) entriesOf.set(table, (entries = Object.entries(table)));
  for (const [name, spec] of entries) {
    const path = fieldPrefix === '' ? name : fieldPrefix + name;
    switch (spec.kind) {
      case 'list':
        out.value[name] = readList(path, spec, el, prefix, out);
        break;
      case 'group': {
        const g = spec as GroupField;
        const groupEl = child(el, g.from[0]);
        const r = readTable(
          g.fields,
          groupEl ?? { name: g.from[0], attributes: {}, children: [] },
          join(prefix, g.from[0]),
          `${path}.`,
        );
        out.value[name] = r.value;
        out.unreadable.push(...r.unreadable);
        out.problems.push(...r.problems);
        break;
      }
      case 'texts': {
        const r = readTexts(spec, el, prefix);
        out.value[name] = r.value;
        if (r.problem) {
          out.unreadable.push(path);
          out.problems.push(r.problem);
        }
        break;
      }
      default: {
        const r = readScalar(spec, el, prefix);
        const identity =
          spec.kind === 'text' || spec.kind === 'id' || spec.kind === 'date' ? spec.identity : undefined;
        const value =
          r.value ??
          (spec.kind === 'bool' && !r.present ? spec.absent : undefined) ??
          (spec.kind === 'emails' ? [] : undefined);
        out.value[name] = value;
        const unreadable = r.problem !== undefined && r.problem.usedInstead === undefined;
        // An optional key that is there but blank is not "absent": it cannot be told from another key.
        const blankKey = identity === 'ifPresent' && r.present && r.value === undefined && !unreadable;
        if (
          identity !== undefined &&
          (unreadable || blankKey || (identity === 'required' && r.value === undefined))
        ) {
          out.identity ??= {
            ...(r.problem ?? {
              source: join(prefix, spec.from[0]!),
              label: spec.label,
              kind: spec.kind,
              problem: blankKey ? 'is blank' : 'is missing',
            }),
            missing: !unreadable && !blankKey,
            field: path,
          };
          break;
        }
        if (r.problem) out.problems.push(r.problem);
        if (unreadable) out.unreadable.push(path);
      }
    }
  }
  return out;
}
