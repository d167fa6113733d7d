import { describe, expect, it } from 'vitest';
import { DATASET_IDS } from '../src/datasets';
import type { DatasetId } from '../src/datasets';
import type { RawElement } from '../src/raw-element';
import type { FieldSpec, FieldTable } from '../src/typed/table';
import { DATASET_TABLES } from '../src/typed/generated/tables';
import { toTyped } from '../src/typed/to-typed';
import { ID_MAX_CHARS } from '../src/datasets';

/**
 * Per dataset table: every scalar field (also inside lists and groups), given odd values of its
 * kind at its first source, is read tolerantly or reported — never a throw, never a dropped record
 * unless the field identifies it.
 */

type Expect = { read: unknown } | 'unreadable' | 'absent';
const STRUCTURE = Symbol('holds an element');
type Odd = string | typeof STRUCTURE;

const CASES: Record<'text' | 'id' | 'bool' | 'date' | 'emails', [Odd, Expect][]> = {
  text: [
    ['  x  ', { read: 'x' }],
    [' ', 'absent'],
    ['', 'absent'],
    // invalid UTF-8 (decoded as U+FFFD) or a lone surrogate (a JSON \\ud800 escape) is not text
    ['Zo\uFFFDe', 'unreadable'],
    ['A\uD800B', 'unreadable'],
    // a C0 control other than tab, LF and CR is not text either (a JSON `\u0000` escape; XML reads
    // `&#x0B;` as U+FFFD), also where trimming would drop it (JS trims U+000B and U+000C)
    ['Jo\u0000nes', 'unreadable'],
    ['Jo\u001fnes', 'unreadable'],
    ['\u000bJones', 'unreadable'],
    ['\u000c', 'unreadable'],
    ['Jo\tnes', { read: 'Jo\tnes' }],
    [' Jo\r\nnes\n', { read: 'Jo\r\nnes' }],
    // a long text is read, but not as an identity (a form's Id): see `want` below
    ['x'.repeat(200), { read: 'x'.repeat(200) }],
    ['x'.repeat(201), { read: 'x'.repeat(201) }],
    [STRUCTURE, 'unreadable'],
  ],
  id: [
    [' 12 ', { read: '12' }],
    ['-2', { read: '-2' }],
    ['007', { read: '7' }],
    ['', 'absent'],
    ['12a', 'unreadable'],
    ['1.5', 'unreadable'],
    ['+3', 'unreadable'],
    ['1\uFFFD2', 'unreadable'],
    ['\u000b12', 'unreadable'],
    ['12\u0000', 'unreadable'],
    // an id longer than ID_MAX_CHARS cannot be looked up anywhere (GetEntity, the gateway, bookings)
    ['9'.repeat(200), { read: '9'.repeat(200) }],
    [`00${'9'.repeat(200)}`, { read: '9'.repeat(200) }],
    ['9'.repeat(201), 'unreadable'],
    [STRUCTURE, 'unreadable'],
  ],
  bool: [
    ['1', { read: true }],
    ['0', { read: false }],
    ['True', { read: true }],
    ['false', { read: false }],
    ['Y', { read: true }],
    ['n', { read: false }],
    ['yes', { read: true }],
    [' No ', { read: false }],
    ['', 'unreadable'],
    ['   ', 'unreadable'],
    ['maybe', 'unreadable'],
    ['2', 'unreadable'],
    ['Y\uFFFD', 'unreadable'],
    ['\u000cY', 'unreadable'],
    [STRUCTURE, 'unreadable'],
  ],
  date: [
    ['2021-04-19T10:11:53', { read: '2021-04-19T10:11:53' }],
    [' 2021-04-19 ', { read: '2021-04-19' }],
    ['2021-04-19T10:11', { read: '2021-04-19T10:11' }],
    ['', 'absent'],
    ['2021-02-30T00:00:00', 'unreadable'],
    ['19/04/2021', 'unreadable'],
    ['yesterday', 'unreadable'],
    ['2021-04-19\uFFFD', 'unreadable'],
    ['2021-04-19\u000b', 'unreadable'],
    [STRUCTURE, 'unreadable'],
  ],
  emails: [
    ['a@x.org; b@y.org', { read: ['a@x.org', 'b@y.org'] }],
    ['', { read: [] }],
    ['a@x.org; z\uFFFD@y.org', 'unreadable'],
    ['a@x.org;\u0000b@y.org', 'unreadable'],
    [STRUCTURE, 'unreadable'],
  ],
};

const node = (name: string): RawElement => ({ name, attributes: {}, children: [] });

/** Puts `value` at a source path (`@A`, `A`, `A/B`) below `el` (a copy). */
function put(el: RawElement, source: string, value: Odd): RawElement {
  const [head, ...rest] = source.split('/') as [string, ...string[]];
  if (rest.length === 0 && head.startsWith('@')) {
    if (value === STRUCTURE) return el; // attributes cannot hold elements
    return { ...el, attributes: { ...el.attributes, [head.slice(1)]: value } };
  }
  const existing = el.children.find((c) => c.name === head);
  let next: RawElement;
  if (rest.length > 0) next = put(existing ?? node(head), rest.join('/'), value);
  else if (value === STRUCTURE)
    next = { ...node(head), children: [{ name: 'Value', attributes: {}, text: 'x', children: [] }] };
  else next = value === '' ? node(head) : { ...node(head), text: value };
  return { ...el, children: [...el.children.filter((c) => c !== existing), next] };
}

/** A minimal element with every identity field of `table` readable. */
function minimal(name: string, table: FieldTable): RawElement {
  let el = node(name);
  for (const spec of Object.values(table))
    if ((spec.kind === 'id' || spec.kind === 'text') && spec.identity === 'required')
      el = put(el, spec.from[0]!, spec.kind === 'id' ? '7' : 'X7');
  return el;
}

interface Target {
  path: string;
  spec: Exclude<FieldSpec, { kind: 'list' | 'group' | 'texts' }>;
  /** Builds the row with `value` at this field's first source. */
  build: (value: Odd) => RawElement;
  /** The value as read from a typed record. */
  get: (value: Record<string, unknown>) => unknown;
  /** Reading this field wrong may leave the record (or list item) out. */
  identity: boolean;
  /** Without it the record (or list item) is left out. */
  required: boolean;
  /** The source relative to the row. */
  source: string;
}

function targets(row: string, table: FieldTable): Target[] {
  const out: Target[] = [];
  for (const [name, spec] of Object.entries(table)) {
    if (spec.kind === 'list') {
      const [container, itemName] = spec.from;
      for (const [f, inner] of Object.entries(spec.item)) {
        if (inner.kind === 'list' || inner.kind === 'group' || inner.kind === 'texts') continue;
        out.push({
          path: `${name}.${f}`,
          spec: inner,
          source: `${container}/${itemName}/${inner.from[0]}`,
          identity: 'identity' in inner && inner.identity !== undefined,
          required: 'identity' in inner && inner.identity === 'required',
          build: (v) => {
            const item = put(minimal(itemName, spec.item), inner.from[0]!, v);
            return {
              ...minimal(row, table),
              children: [...minimal(row, table).children, { ...node(container), children: [item] }],
            };
          },
          get: (value) => (value[name] as Record<string, unknown>[])[0]?.[f],
        });
      }
      continue;
    }
    if (spec.kind === 'group') {
      for (const [f, inner] of Object.entries(spec.fields)) {
        if (inner.kind === 'list' || inner.kind === 'group' || inner.kind === 'texts') continue;
        out.push({
          path: `${name}.${f}`,
          spec: inner,
          source: `${spec.from[0]}/${inner.from[0]}`,
          identity: false,
          required: false,
          build: (v) => put(minimal(row, table), `${spec.from[0]}/${inner.from[0]}`, v),
          get: (value) => (value[name] as Record<string, unknown>)[f],
        });
      }
      continue;
    }
    if (spec.kind === 'texts') continue;
    out.push({
      path: name,
      spec,
      source: spec.from[0]!,
      identity: 'identity' in spec && spec.identity !== undefined,
      required: 'identity' in spec && spec.identity === 'required',
      build: (v) => put(minimal(row, table), spec.from[0]!, v),
      get: (value) => value[name],
    });
  }
  return out;
}

const ROWS: Record<DatasetId, string> = {
  currentStaff: 'StaffMember',
  contacts: 'Contact',
  currentPupils: 'Pupil',
  customGroupMembership: 'CustomPupilGroupMembershipItem',
  customGroups: 'CustomPupilGroup',
  academicHouses: 'House',
  boardingHouses: 'House',
  schoolForms: 'Form',
  schoolDivisions: 'SchoolDivision',
  yearGroups: 'Year',
  departmentsAndSubjects: 'Department',
  teachingForms: 'TeachingForm',
  teachingSets: 'Set',
  teachingSetLists: 'SetList',
};

describe('dataset tables: odd values of every kind', () => {
  for (const d of DATASET_IDS) {
    it(`${d}: every field read tolerantly or reported, the record kept unless the field identifies it`, () => {
      const { fields } = DATASET_TABLES[d];
      const list = targets(ROWS[d], fields);
      expect(list.length).toBeGreaterThan(0);
      const base = minimal(ROWS[d], fields);
      const present = (src: string) =>
        src.startsWith('@') ? src.slice(1) in base.attributes : base.children.some((c) => c.name === src);
      for (const t of list) {
        // a fallback source the minimal row already fills would answer instead (e.g. Form name ← @Id)
        if (!t.path.includes('.') && t.spec.from.slice(1).some(present)) continue;
        for (const [odd, given] of CASES[t.spec.kind as keyof typeof CASES]) {
          // a blank identity is a missing (required) or unreadable (optional key) one; a text
          // identity longer than ID_MAX_CHARS cannot be looked up, so it is unreadable too
          const want: Expect =
            t.identity &&
            (given === 'absent' ||
              (t.spec.kind === 'text' && typeof odd === 'string' && odd.length > ID_MAX_CHARS))
              ? 'unreadable'
              : given;
          if (odd === STRUCTURE && t.source.split('/').at(-1)!.startsWith('@')) continue;
          const what = `${d} ${t.path} = ${odd === STRUCTURE ? '<element>' : JSON.stringify(odd)}`;
          const r = toTyped(d, t.build(odd));
          const inList = t.path.includes('.') && !t.path.startsWith('address.');
          if (!r.ok) {
            expect(t.identity && !inList, `${what}: record dropped (${r.finding.message})`).toBe(true);
            expect(want === 'unreadable' || want === 'absent', what).toBe(true);
            continue;
          }
          const reported = r.findings.filter((f) => f.field === t.source);
          if (typeof want === 'object') {
            expect(t.get(r.value), what).toEqual(want.read);
            expect(reported, what).toEqual([]);
          } else if (want === 'absent') {
            expect(reported, what).toEqual([]);
            if (!t.identity)
              expect(t.get(r.value) ?? undefined, what).toEqual(
                t.spec.kind === 'bool' ? t.spec.absent : undefined,
              );
          } else {
            // unreadable: reported with the record kept; a list item that identifies itself is left out
            expect(reported.length, `${what}: not reported`).toBeGreaterThan(0);
            expect(reported[0]).toMatchObject({
              code: 'ISAMS_FIELD_UNREADABLE',
              datasetId: d,
              recordId: String(r.value.id),
            });
            const listName = t.path.split('.')[0]!;
            expect(r.unreadable, what).toContain(inList && t.identity ? listName : t.path);
            // a list-valued field stays a list (empty); a scalar is left unset
            if (!(inList && t.identity))
              expect(t.get(r.value), what).toEqual(t.spec.kind === 'emails' ? [] : undefined);
          }
        }
      }
    });
  }

  it('a record without its identity is left out with ISAMS_RECORD_MISSING_ID / ISAMS_RECORD_INVALID_FIELD', () => {
    for (const d of DATASET_IDS) {
      const { fields } = DATASET_TABLES[d];
      for (const [name, spec] of Object.entries(fields)) {
        if (!('identity' in spec) || spec.identity !== 'required') continue;
        const withoutIt = { ...minimal(ROWS[d], fields) };
        const src = spec.from[0]!;
        const row = src.startsWith('@')
          ? {
              ...withoutIt,
              attributes: Object.fromEntries(
                Object.entries(withoutIt.attributes).filter(([k]) => k !== src.slice(1)),
              ),
            }
          : { ...withoutIt, children: withoutIt.children.filter((c) => c.name !== src) };
        const r = toTyped(d, row);
        expect(r.ok, `${d} without ${name}`).toBe(false);
        if (!r.ok)
          expect(r.finding.code).toBe(
            name === 'id' ? 'ISAMS_RECORD_MISSING_ID' : 'ISAMS_RECORD_INVALID_FIELD',
          );
      }
    }
  });
});
