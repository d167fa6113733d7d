// A simple local generator of a large, realistic Batch API document for the parse benchmark
// (the simulator's generateSchool is the richer one). Writes XML or Json.NET-style JSON to a file,
// one record at a time.
import { createWriteStream } from 'node:fs';
import { once } from 'node:events';
import type { RawElement } from '../src/raw-element';

const el = (
  name: string,
  attributes: Record<string, string>,
  kids: RawElement[] = [],
  text?: string,
): RawElement =>
  text === undefined ? { name, attributes, children: kids } : { name, attributes, text, children: kids };
const leaf = (name: string, text: string | undefined, attributes: Record<string, string> = {}): RawElement =>
  el(name, attributes, [], text);
const legacy = (name: string, text: string): RawElement => leaf(name, text, { Legacy: 'True' });

const esc = (s: string): string =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

function toXml(e: RawElement, indent: string): string {
  const attrs = Object.entries(e.attributes)
    .map(([k, v]) => ` ${k}="${esc(v)}"`)
    .join('');
  if (e.children.length === 0)
    return e.text === undefined
      ? `${indent}<${e.name}${attrs}/>`
      : `${indent}<${e.name}${attrs}>${esc(e.text)}</${e.name}>`;
  return `${indent}<${e.name}${attrs}>\n${e.children.map((c) => toXml(c, indent + '  ')).join('\n')}\n${indent}</${e.name}>`;
}

/** Json.NET `SerializeXmlNode` shape of one element (single child → object, repeated → array). */
export function toJsonValue(e: RawElement): unknown {
  const hasAttrs = Object.keys(e.attributes).length > 0;
  if (e.children.length === 0 && !hasAttrs) return e.text ?? null;
  const o: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(e.attributes)) o[`@${k}`] = v;
  if (e.text !== undefined) o['#text'] = e.text;
  const groups = new Map<string, unknown[]>();
  for (const c of e.children) {
    const list = groups.get(c.name) ?? [];
    list.push(toJsonValue(c));
    groups.set(c.name, list);
  }
  for (const [k, list] of groups) o[k] = list.length === 1 ? list[0] : list;
  return o;
}

const FIRST = ['Oliver', 'Amelia', 'George', 'Isla', 'Harry', 'Ava', 'Noah', 'Mia', 'Jack', 'Sophia'];
const LAST = [
  'Smith',
  'Jones',
  'Taylor',
  'Brown',
  'Williams',
  'Wilson',
  'Johnson',
  'Davies',
  'Patel',
  'Okafor',
];
const pick = <T>(list: T[], i: number): T => list[i % list.length]!;

/** The identity attributes of person record `i`: its id, its person id and its person GUID. */
const person = (i: number, personIdBase: number, guidPrefix: string): Record<string, string> => ({
  Id: String(i),
  PersonId: String(personIdBase + i),
  PersonGuid: `${guidPrefix}-${String(i).padStart(12, '0')}`,
});

/** `count` rows made by `row(i)` for i = 1…count, made as the writer asks for them. */
function* numbered(count: number, row: (i: number) => RawElement): Generator<RawElement> {
  for (let i = 1; i <= count; i++) yield row(i);
}

function* datasets(
  setListRows: number,
  schoolScale: number,
): Generator<[module: string, container: string, rows: Iterable<RawElement>]> {
  const staff = Math.max(1, Math.round(400 * schoolScale));
  const pupils = Math.max(1, Math.round(2500 * schoolScale));
  const sets = Math.max(1, Math.round(1500 * schoolScale));
  yield [
    'HRManager',
    'CurrentStaff',
    numbered(staff, (i) =>
      el('StaffMember', person(i, 2000, '5B1F3C2A-9D4E-4C11-8A0B'), [
        leaf('Initials', `S${i}`),
        leaf('UserCode', `STAFF${i}X48213377401`),
        leaf('Title', 'Mr'),
        leaf('Forename', pick(FIRST, i)),
        leaf('MiddleNames', undefined),
        leaf('Surname', pick(LAST, i)),
        leaf('FullName', `${pick(FIRST, i)} ${pick(LAST, i)}`),
        leaf('PreferredName', pick(FIRST, i)),
        leaf('SchoolEmailAddress', `s${i}@example-school.org`),
        leaf('TeachingStaff', '1'),
        el('Roles', {}, [el('Role', { Id: '4' }, [leaf('Name', 'Teacher')])]),
        el('Divisions', {}, [el('Division', { Id: '3' }, [leaf('Name', 'Senior School')])]),
      ]),
    ),
  ];
  yield [
    'PupilManager',
    'CurrentPupils',
    numbered(pupils, (i) =>
      el('Pupil', { ...person(i, 10000, '35f2a20a-1534-40d8-9d18'), DivisionId: '3' }, [
        leaf('SchoolCode', `EX${i}`),
        leaf('SchoolId', String(123456789000 + i)),
        leaf('UserCode', `PUPIL${i}`),
        leaf('Forename', pick(FIRST, i + 3)),
        leaf('Surname', pick(LAST, i + 5)),
        leaf('Preferredname', pick(FIRST, i + 3)),
        leaf('Fullname', `${pick(FIRST, i + 3)} ${pick(LAST, i + 5)}`),
        leaf('Gender', i % 2 ? 'M' : 'F'),
        leaf('DOB', '2011-05-02T00:00:00'),
        leaf('Form', `${7 + (i % 6)}W`),
        leaf('NCYear', String(7 + (i % 6))),
        leaf('EmailAddress', `p${i}@pupils.example-school.org`),
        leaf('Tutor', `STAFF${(i % staff) + 1}X48213377401`),
      ]),
    ),
  ];
  yield [
    'PupilManager',
    'Contacts',
    numbered(pupils * 2, (i) =>
      el('Contact', { Id: String(i), PersonId: String(50000 + i), IsFirstPersonContact: 'True' }, [
        leaf('Title', 'Mrs'),
        leaf('Forename', pick(FIRST, i)),
        leaf('Surname', pick(LAST, i)),
        leaf('RelationshipRaw', 'Mother'),
        el('Address', {}, [
          el('AddressLines', {}, [leaf('Address1', `${i} Orchard Way`)]),
          leaf('Town', 'Exampleton'),
          leaf('Postcode', 'EX1 2AB'),
        ]),
        leaf('EmailAddress', `c${i}@example.com`),
        leaf('MailMergeAll', '1'),
        el('Pupils', {}, [
          el('Pupil', { Id: String(((i - 1) % pupils) + 1) }, [
            legacy('SchoolId', String(123456789000 + ((i - 1) % pupils) + 1)),
            leaf('Status', 'Current'),
          ]),
        ]),
      ]),
    ),
  ];
  yield [
    'TeachingManager',
    'Sets',
    numbered(sets, (i) =>
      el('Set', { Id: String(i), SubjectId: String(i % 30), YearId: String(7 + (i % 6)), AuthorId: '1' }, [
        legacy('SubjectId', String(i % 30)),
        legacy('YearId', String(7 + (i % 6))),
        legacy('Teacher', `STAFF${(i % staff) + 1}X48213377401`),
        leaf('SetNumber', '1'),
        leaf('SetCode', `S${i}`),
        leaf('Name', `S${i}`),
        el('Teachers', {}, [
          el('Teacher', { Id: String(i), StaffId: String((i % staff) + 1), PrimaryTeacher: 'True' }),
        ]),
        leaf('Description', undefined),
        leaf('LastUpdated', '2024-09-02T14:09:09'),
      ]),
    ),
  ];
  yield [
    'TeachingManager',
    'SetLists',
    numbered(setListRows, (i) => {
      const pupil = ((i - 1) % pupils) + 1;
      // Each round through the pupils puts every pupil in one more set, none twice (a real set list
      // lists a pupil once per set; up to pupils × sets rows).
      const set = String(((pupil * 7 + Math.floor((i - 1) / pupils)) % sets) + 1);
      return el('SetList', { Id: String(i), SetId: set, PupilId: String(pupil), AuthorId: '1' }, [
        legacy('SetId', set),
        legacy('SchoolId', String(123456789000 + pupil)),
        legacy('Author', ''),
        leaf('LastUpdated', '2024-09-02T14:09:09'),
      ]);
    }),
  ];
}

/**
 * Writes a document of roughly `targetBytes` to `path`; returns the record count. `schoolScale`
 * scales the staff, pupils, contacts and sets (1 = 400 staff and 2500 pupils, about 6 MB of XML
 * before set lists); set lists fill the rest of `targetBytes`.
 */
export async function generateLargeDocument(
  path: string,
  format: 'xml' | 'json',
  targetBytes: number,
  schoolScale = 1,
): Promise<number> {
  const out = createWriteStream(path);
  const write = async (s: string): Promise<void> => {
    if (!out.write(s)) await once(out, 'drain');
  };
  // Set list rows dominate; ~320 bytes each in XML (a bit less in JSON).
  const setListRows = Math.max(
    1000,
    Math.round(
      (targetBytes - (format === 'xml' ? 6_100_000 : 4_000_000) * schoolScale) /
        (format === 'xml' ? 277 : 230),
    ),
  );
  let records = 0;
  const byModule = new Map<string, [string, Iterable<RawElement>][]>();
  for (const [m, c, rows] of datasets(setListRows, schoolScale))
    byModule.set(m, [...(byModule.get(m) ?? []), [c, rows]]);
  if (format === 'xml') {
    await write('<iSAMS>\n');
    for (const [module, containers] of byModule) {
      await write(`  <${module}>\n`);
      for (const [container, rows] of containers) {
        await write(`    <${container}>\n`);
        for (const row of rows) {
          await write(toXml(row, '      ') + '\n');
          records++;
        }
        await write(`    </${container}>\n`);
      }
      await write(`  </${module}>\n`);
    }
    await write('</iSAMS>\n');
  } else {
    await write('{"iSAMS":{');
    let firstModule = true;
    for (const [module, containers] of byModule) {
      await write(`${firstModule ? '' : ','}${JSON.stringify(module)}:{`);
      firstModule = false;
      let firstContainer = true;
      for (const [container, rows] of containers) {
        await write(`${firstContainer ? '' : ','}${JSON.stringify(container)}:{`);
        firstContainer = false;
        let first = true;
        for (const row of rows) {
          if (first) await write(`${JSON.stringify(row.name)}:[`);
          await write((first ? '' : ',') + JSON.stringify(toJsonValue(row)));
          first = false;
          records++;
        }
        await write(first ? '}' : ']}');
      }
      await write('}');
    }
    await write('}}');
  }
  out.end();
  await once(out, 'finish');
  return records;
}
