import { describe, expect, it } from 'vitest';
import { parseBatchDocument } from '../src/parser/parse-batch-document';
import { toTyped } from '../src/typed/to-typed';
import { DATASET_IDS } from '../src/datasets';
import type { DatasetId } from '../src/datasets';
import type { Finding } from '../src/parser/parse-events';
import type { RawElement } from '../src/raw-element';
import { fixture } from './helpers';

/**
 * A record the reader cannot fully read must never be dropped: every odd value of every field of
 * every dataset is either read tolerantly or reported (ISAMS_FIELD_UNREADABLE) with the record kept.
 * Only a record whose identity cannot be read is left out — with a finding, never by throwing.
 */

const sample = await parseBatchDocument(fixture('reference-sample.xml'), { format: 'xml' });
const first = (d: DatasetId): RawElement => sample.datasets[d].records[0]!;

/** Sources (relative to the row) a record is identified by; written here independently of the tables. */
const IDENTITY: Record<DatasetId, string[]> = {
  currentStaff: ['@Id'],
  contacts: ['@Id', '@PersonId'],
  currentPupils: ['@Id'],
  customGroupMembership: ['@Id', '@PupilID', 'CustomGroupId'],
  customGroups: ['@Id'],
  academicHouses: ['@Id'],
  boardingHouses: ['@Id'],
  schoolForms: ['@Id'],
  schoolDivisions: ['@Id'],
  yearGroups: ['@Id', 'NationalCurriculumYear'],
  departmentsAndSubjects: ['@Id'],
  teachingForms: ['@Id'],
  teachingSets: ['@Id'],
  teachingSetLists: ['@Id', '@SetId', '@PupilId', 'SetId'],
};

const ODD_TEXT = [
  '',
  '   ',
  ' ',
  'Y',
  'N',
  'yes',
  'maybe',
  '-3',
  '1.5',
  'abc',
  '2024-13-45',
  '0001-01-01T00:00:00',
  'Zo\uFFFDe',
];

type Mutation = { where: string; apply: (el: RawElement) => RawElement };

/** Every attribute and element of the record's subtree, with a path relative to the row. */
function positions(el: RawElement, prefix = ''): { path: string[]; attr?: string; label: string }[] {
  const out: { path: string[]; attr?: string; label: string }[] = [];
  const walk = (e: RawElement, path: string[], label: string) => {
    for (const a of Object.keys(e.attributes)) out.push({ path, attr: a, label: `${label}@${a}` });
    e.children.forEach((c, i) => {
      const l = `${label}${c.name}${e.children.filter((x) => x.name === c.name).length > 1 ? `[${i}]` : ''}`;
      out.push({ path: [...path, String(i)], label: l });
      walk(c, [...path, String(i)], `${l}/`);
    });
  };
  walk(el, [], prefix);
  return out;
}

function edit(el: RawElement, path: string[], f: (e: RawElement) => RawElement | undefined): RawElement {
  if (path.length === 0) return f(el) ?? el;
  const [head, ...rest] = path;
  const i = Number(head);
  const children = el.children.flatMap((c, j) => {
    if (j !== i) return [c];
    const next = rest.length === 0 ? f(c) : edit(c, rest, f);
    return next === undefined ? [] : [next];
  });
  return { ...el, children };
}

function mutations(el: RawElement): Mutation[] {
  const out: Mutation[] = [];
  for (const pos of positions(el)) {
    if (pos.attr !== undefined) {
      const name = pos.attr;
      for (const v of ODD_TEXT)
        out.push({
          where: `${pos.label}=${JSON.stringify(v)}`,
          apply: (r) => edit(r, pos.path, (e) => ({ ...e, attributes: { ...e.attributes, [name]: v } })),
        });
      out.push({
        where: `${pos.label} removed`,
        apply: (r) =>
          edit(r, pos.path, (e) => {
            const { [name]: _gone, ...rest } = e.attributes;
            return { ...e, attributes: rest };
          }),
      });
      continue;
    }
    for (const v of ODD_TEXT)
      out.push({
        where: `${pos.label}=${JSON.stringify(v)}`,
        apply: (r) => edit(r, pos.path, (e) => ({ ...e, text: v })),
      });
    out.push({ where: `${pos.label} removed`, apply: (r) => edit(r, pos.path, () => undefined) });
    out.push({
      where: `${pos.label} holding an element`,
      apply: (r) =>
        edit(r, pos.path, (e) => ({
          name: e.name,
          attributes: e.attributes,
          children: [...e.children, { name: 'Value', attributes: {}, text: 'x', children: [] }],
        })),
    });
  }
  return out;
}

const touchesIdentity = (d: DatasetId, where: string): boolean =>
  IDENTITY[d].some((src) => where === src || where.startsWith(`${src}=`) || where.startsWith(`${src} `));

describe('typed view tolerance: every field of every dataset', () => {
  for (const d of DATASET_IDS) {
    it(`${d}: odd values never throw and never drop a record whose identity is readable`, () => {
      const base = first(d);
      const baseId = toTyped(d, base);
      expect(baseId.ok).toBe(true);
      for (const m of mutations(base)) {
        const raw = m.apply(base);
        let r: ReturnType<typeof toTyped>;
        try {
          r = toTyped(d, raw);
        } catch (err) {
          throw new Error(`${d} ${m.where}: threw ${String(err)}`);
        }
        if (!r.ok) {
          expect(
            touchesIdentity(d, m.where),
            `${d} ${m.where} dropped the record: ${r.finding.message}`,
          ).toBe(true);
          expect(['ISAMS_RECORD_MISSING_ID', 'ISAMS_RECORD_INVALID_FIELD']).toContain(r.finding.code);
          expect(r.finding.datasetId).toBe(d);
          continue;
        }
        const findings: readonly Finding[] = (r as { findings?: readonly Finding[] }).findings ?? [];
        for (const f of findings) {
          expect(f, `${d} ${m.where}`).toMatchObject({
            code: 'ISAMS_FIELD_UNREADABLE',
            datasetId: d,
            recordId: expect.any(String),
            path: expect.any(String),
          });
          expect(f.message, `${d} ${m.where}`).toMatch(/In iSAMS/);
        }
      }
    });
  }
});

const el = (name: string, attributes: Record<string, string> = {}, kids: RawElement[] = [], text?: string) =>
  (text === undefined
    ? { name, attributes, children: kids }
    : { name, attributes, text, children: kids }) as RawElement;
const leaf = (name: string, text?: string, attributes: Record<string, string> = {}) =>
  el(name, attributes, [], text);
/** The first record of `d` with child `name` given `text` (added when missing). */
function setText(raw: RawElement, name: string, text: string | RawElement[]): RawElement {
  const replace = (c: RawElement): RawElement =>
    typeof text === 'string'
      ? { ...c, text, children: [] }
      : { name: c.name, attributes: c.attributes, children: text };
  const has = raw.children.some((c) => c.name === name);
  return {
    ...raw,
    children: has
      ? raw.children.map((c) => (c.name === name ? replace(c) : c))
      : [...raw.children, replace(leaf(name))],
  };
}
const setAttr = (raw: RawElement, name: string, value: string): RawElement => ({
  ...raw,
  attributes: { ...raw.attributes, [name]: value },
});

type Ok = { ok: true; value: Record<string, unknown>; unreadable: string[]; findings: Finding[] };
function read(d: DatasetId, raw: RawElement): Ok {
  const r = toTyped(d, raw) as unknown as Ok | { ok: false; finding: Finding };
  if (!r.ok) throw new Error(`record dropped: ${JSON.stringify(r.finding)}`);
  return r;
}

/**
 * `r` kept its record with exactly the fields `unreadable` unread, and reported one
 * ISAMS_FIELD_UNREADABLE finding with `finding`'s fields; returns that finding's message.
 */
function expectOneUnreadable(r: Ok, unreadable: string[], finding: Partial<Finding>): string {
  expect(r.unreadable).toEqual(unreadable);
  expect(r.findings).toEqual([expect.objectContaining({ code: 'ISAMS_FIELD_UNREADABLE', ...finding })]);
  return r.findings[0]!.message;
}

describe('typed view tolerance: scalar values (booleans, dates, ids)', () => {
  it('booleans: 1/0, True/False, Y/N, yes/no read; blank or anything else reported, record kept', () => {
    const staff = first('currentStaff');
    const cases: [string, boolean][] = [
      ['1', true],
      ['0', false],
      ['True', true],
      ['false', false],
      ['Y', true],
      ['n', false],
      ['yes', true],
      ['No', false],
      [' 1 ', true],
    ];
    for (const [v, want] of cases) {
      const r = read('currentStaff', setText(staff, 'TeachingStaff', v));
      expect(r.value.teachingStaff, v).toBe(want);
      expect(r.findings, v).toEqual([]);
    }
    for (const v of ['', '  ', 'maybe', '2', 'Yes please']) {
      const r = read('currentStaff', setText(staff, 'TeachingStaff', v));
      expect(r.value).toMatchObject({ id: '12', surname: 'Whitmore', teachingStaff: undefined });
      const message = expectOneUnreadable(r, ['teachingStaff'], {
        datasetId: 'currentStaff',
        recordId: '12',
        path: 'HRManager/CurrentStaff/StaffMember/TeachingStaff',
      });
      expect(message).toMatch(/StaffMember 12.*TeachingStaff.*In iSAMS/s);
    }
    const g = read('customGroups', setText(setText(first('customGroups'), 'Shared', 'N'), 'Deleted', 'Y'));
    expect(g.value).toMatchObject({ shared: false, deleted: true });
    const c = read(
      'contacts',
      setAttr(setText(first('contacts'), 'MailMergeAll', 'maybe'), 'IsFirstPersonContact', 'Y'),
    );
    expect(c.value).toMatchObject({
      isFirstPersonContact: true,
      mailMergeAll: undefined,
      correspondenceMailMerge: false,
    });
    expect(c.unreadable).toEqual(['mailMergeAll']);
  });

  it('dates: the documented form, date-only and blank are read; garbage is reported without its value', () => {
    const staff = first('currentStaff');
    expect(read('currentStaff', setText(staff, 'DOB', '1979-03-14')).value.dob).toBe('1979-03-14');
    expect(read('currentStaff', setText(staff, 'DOB', ' 1979-03-14T00:00:00 ')).value.dob).toBe(
      '1979-03-14T00:00:00',
    );
    const blank = read('currentStaff', setText(staff, 'DOB', ''));
    expect([blank.value.dob, blank.findings]).toEqual([undefined, []]);
    for (const v of ['14/03/1979', '1979-02-30T00:00:00', 'soon']) {
      const r = read('currentStaff', setText(staff, 'DOB', v));
      expect(r.unreadable, v).toEqual(['dob']);
      expect(r.findings[0]!.message).not.toContain(v);
    }
    const g = read('customGroups', setText(first('customGroups'), 'ExpiryDate', 'never'));
    expect(g.value).toMatchObject({ id: '77', expiryDate: undefined, shared: true });
    expect(g.unreadable).toEqual(['expiryDate']);
  });

  it('ids: whitespace trimmed, negative NC years valid, non-numeric reported (link) or the record skipped (identity)', () => {
    expect(read('currentStaff', setAttr(first('currentStaff'), 'Id', ' 12 ')).value.id).toBe('12');
    expect(read('yearGroups', setAttr(first('yearGroups'), 'Id', '-2')).value.id).toBe('-2');
    expect(read('currentPupils', setText(first('currentPupils'), 'NCYear', '-1')).value.ncYear).toBe('-1');
    const p = read(
      'currentPupils',
      setAttr(setText(first('currentPupils'), 'NCYear', 'Year 9'), 'AcademicHouseId', 'x'),
    );
    expect(p.value).toMatchObject({ id: '710', ncYear: undefined, academicHouseId: undefined, form: '9W' });
    expect(p.unreadable.sort()).toEqual(['academicHouseId', 'ncYear']);
    const bad = toTyped('currentStaff', setAttr(first('currentStaff'), 'Id', '12a'));
    expect(bad).toEqual({
      ok: false,
      finding: expect.objectContaining({
        code: 'ISAMS_RECORD_INVALID_FIELD',
        path: 'HRManager/CurrentStaff/StaffMember/@Id',
      }),
    });
    const noPupil = toTyped('teachingSetLists', setAttr(first('teachingSetLists'), 'PupilId', ' '));
    expect(noPupil.ok).toBe(false);
    // a contact's PersonId keys the person: absent is allowed (keyed by record), blank is not
    expect(toTyped('contacts', setAttr(first('contacts'), 'PersonId', ' '))).toMatchObject({
      ok: false,
      finding: { code: 'ISAMS_RECORD_INVALID_FIELD', field: '@PersonId' },
    });
    const house = read('academicHouses', setAttr(first('academicHouses'), 'HouseMasterId', 'RP'));
    expect(house.value).toMatchObject({ id: '2', houseMasterId: undefined, name: 'Kestrel' });
    expect(house.findings[0]!.message).toContain('"RP"');
  });
});

describe('typed view tolerance: lists, repeated values, fallbacks and extra fields', () => {
  it('a Role without Id keeps the staff member: the readable roles are read and the list is reported', () => {
    const staff = setText(first('currentStaff'), 'Roles', [
      el('Role', { Id: '4' }, [leaf('Name', 'Teacher - Mathematics')]),
      el('Role', {}, [leaf('Name', 'Form Tutor')]),
    ]);
    const r = read('currentStaff', staff);
    expect(r.value).toMatchObject({ id: '12', teachingStaff: true });
    expect(r.value.roles).toEqual([{ id: '4', name: 'Teacher - Mathematics' }]);
    const message = expectOneUnreadable(r, ['roles'], {
      recordId: '12',
      path: 'HRManager/CurrentStaff/StaffMember/Roles/Role/@Id',
    });
    expect(message).not.toContain('Form Tutor');
  });

  it('nested lists: items without ids and odd item fields are reported, the record kept', () => {
    const set = first('teachingSets');
    const odd = setText(set, 'Teachers', [
      el('Teacher', { Id: '801', StaffId: '12', PrimaryTeacher: 'Maybe' }),
      el('Teacher', { Id: '802', PrimaryTeacher: 'False' }),
    ]);
    const r = read('teachingSets', odd);
    expect(r.value).toMatchObject({ id: '501', subjectId: '21', setCode: '9/Ma1' });
    expect(r.value.teachers).toEqual([{ id: '801', staffId: '12', primaryTeacher: undefined }]);
    expect(r.unreadable.sort()).toEqual(['teachers', 'teachers.primaryTeacher']);
    const contact = setText(first('contacts'), 'Pupils', [el('Pupil', {}, [leaf('Status', 'Current')])]);
    const c = read('contacts', contact);
    expect(c.value).toMatchObject({ id: '3001', personId: '5001', pupils: [] });
    expect(c.unreadable).toEqual(['pupils']);
    const dept = setText(first('departmentsAndSubjects'), 'Subjects', [
      el('Subject', {}, [leaf('Name', 'Statistics')]),
      el('Subject', { Id: '21' }, [leaf('Name', 'Mathematics')]),
    ]);
    const dr = read('departmentsAndSubjects', dept);
    expect(dr.value.subjects).toEqual([{ id: '21', name: 'Mathematics', code: undefined }]);
    expect(dr.unreadable).toEqual(['subjects']);
    const div = setText(first('schoolDivisions'), 'Years', [el('Year', { Id: '70' })]);
    expect(read('schoolDivisions', div).unreadable).toEqual(['years']);
  });

  it('a value given as elements, or twice with different values, is reported; the same value twice is read', () => {
    const pupil = first('currentPupils');
    const r = read('currentPupils', setText(pupil, 'Form', [leaf('Name', '9W')]));
    expect(r.unreadable).toEqual(['form']);
    const twice = { ...pupil, children: [...pupil.children, leaf('Surname', 'Other')] };
    expect(read('currentPupils', twice).unreadable).toEqual(['surname']);
    const same = { ...pupil, children: [...pupil.children, leaf('Surname', 'Grant')] };
    expect(read('currentPupils', same)).toMatchObject({ unreadable: [], value: { surname: 'Grant' } });
  });

  it('a modern attribute that cannot be read falls back to the Legacy element, with a finding', () => {
    const r = read('teachingSets', setAttr(first('teachingSets'), 'SubjectId', 'Ma'));
    expect(r.value.subjectId).toBe('21');
    expect(r.unreadable).toEqual([]);
    expect(r.findings).toEqual([
      expect.objectContaining({ code: 'ISAMS_FIELD_UNREADABLE', recordId: '501' }),
    ]);
  });

  it('unknown extra fields are ignored', () => {
    const staff = first('currentStaff');
    const extra = {
      ...setAttr(staff, 'NewAttribute', 'x'),
      children: [...staff.children, leaf('Ethnicity', 'n/a'), el('Something', {}, [leaf('Deep', '1')])],
    };
    expect(read('currentStaff', extra)).toMatchObject({ unreadable: [], findings: [] });
  });
});

describe('typed view tolerance: JSON shapes', () => {
  it('single objects, #text objects, null and items without @Id', async () => {
    const json = JSON.stringify({
      iSAMS: {
        HRManager: {
          CurrentStaff: {
            StaffMember: {
              '@Id': '12',
              Surname: 'Whitmore',
              TeachingStaff: { '@Legacy': 'True', '#text': 'Y' },
              Roles: { Role: { Name: 'Form Tutor' } },
              Divisions: { Division: { '@Id': '3', Name: 'Senior School' } },
              DOB: null,
            },
          },
        },
        TeachingManager: {
          Sets: {
            Set: [
              {
                '@Id': '501',
                SubjectId: { '@Legacy': 'True', '#text': '21' },
                Teachers: { Teacher: { '@Id': '801', '@StaffId': '12', '@PrimaryTeacher': 'Y' } },
              },
            ],
          },
          SetLists: { SetList: { '@Id': '1', '@SetId': '501', '@PupilId': ' 710 ', LastUpdated: '' } },
        },
      },
    });
    const doc = await parseBatchDocument(json, { format: 'json' });
    const staff = read('currentStaff', doc.datasets.currentStaff.records[0]!);
    expect(staff.value).toMatchObject({ id: '12', teachingStaff: true, dob: undefined, roles: [] });
    expect(staff.value.divisions).toEqual([{ id: '3', name: 'Senior School' }]);
    expect(staff.unreadable).toEqual(['roles']);
    const set = read('teachingSets', doc.datasets.teachingSets.records[0]!);
    expect(set.value).toMatchObject({
      subjectId: '21',
      teachers: [{ id: '801', staffId: '12', primaryTeacher: true }],
    });
    expect(read('teachingSetLists', doc.datasets.teachingSetLists.records[0]!).value).toMatchObject({
      pupilId: '710',
      lastUpdated: undefined,
    });
    expect(doc.datasets.currentStaff.findings.map((f) => f.code)).toEqual(['ISAMS_FIELD_UNREADABLE']);
  });
});

describe('typed view: text that is not valid UTF-8', () => {
  /** The sample document as bytes, with `find` replaced by `bytes` (e.g. a Windows-1252 "ö"). */
  const sampleWith = (find: string, bytes: number[]): Uint8Array => {
    const doc = Buffer.from(fixture('reference-sample.xml'), 'utf8');
    const at = doc.indexOf(find);
    expect(at).toBeGreaterThan(0);
    return Buffer.concat([
      doc.subarray(0, at),
      Buffer.from(bytes),
      doc.subarray(at + Buffer.byteLength(find)),
    ]);
  };
  const staff12 = (doc: Awaited<ReturnType<typeof parseBatchDocument>>) =>
    read(
      'currentStaff',
      doc.datasets.currentStaff.records.find((r) => r.attributes.Id === '12')!,
    );

  it('an invalid byte in a name is reported and the name left unread, never replaced (XML bytes)', async () => {
    // "Whitmöre" in Windows-1252: 0xF6 is not UTF-8
    const bytes = sampleWith('<Surname>Whitmore</Surname>', [
      ...Buffer.from('<Surname>Whitm'),
      0xf6,
      ...Buffer.from('re</Surname>'),
    ]);
    const doc = await parseBatchDocument(bytes, { format: 'xml' });
    const r = staff12(doc);
    expect(r.value).toMatchObject({ id: '12', forename: 'Alice', surname: undefined, teachingStaff: true });
    const message = expectOneUnreadable(r, ['surname'], {
      datasetId: 'currentStaff',
      recordId: '12',
      field: 'Surname',
      path: 'HRManager/CurrentStaff/StaffMember/Surname',
    });
    expect(message).toMatch(/StaffMember 12.*not valid text.*In iSAMS.*retype/s);
    expect(message).not.toMatch(/Whitm/);
    expect(doc.datasets.currentStaff.findings.map((f) => `${f.code} ${f.recordId} ${f.field}`)).toEqual([
      'ISAMS_FIELD_UNREADABLE 12 Surname',
    ]);
  });

  it('in an attribute, an address line and an identity: each reported; a record is left out only when its identity is unreadable', async () => {
    let bytes = sampleWith('<Address1>12 Orchard Way</Address1>', [
      ...Buffer.from('<Address1>12 Orchard W'),
      0xc3,
      ...Buffer.from('y</Address1>'),
    ]);
    const contact = read(
      'contacts',
      (await parseBatchDocument(bytes, { format: 'xml' })).datasets.contacts.records[0]!,
    );
    expect(contact.unreadable).toEqual(['address.lines']);
    expect((contact.value.address as { lines?: unknown }).lines).toEqual([]);
    expect(contact.findings.map((f) => f.field)).toEqual(['Address/AddressLines/Address1']);

    bytes = sampleWith('PersonGuid="5B1F3C2A', [...Buffer.from('PersonGuid="5B1F3C2A'), 0xff]);
    const staff = staff12(await parseBatchDocument(bytes, { format: 'xml' }));
    expect(staff.value).toMatchObject({ id: '12', surname: 'Whitmore', personGuid: undefined });
    expect(staff.unreadable).toEqual(['personGuid']);

    bytes = sampleWith('<Form Id="', [...Buffer.from('<Form Id="'), 0xe2, 0x82]);
    const forms = await parseBatchDocument(bytes, { format: 'xml' });
    const dropped = forms.datasets.schoolForms.findings.filter(
      (f) => f.code === 'ISAMS_RECORD_INVALID_FIELD',
    );
    expect(dropped).toHaveLength(1);
    expect(dropped[0]!.message).toMatch(/not valid text/);
  });

  it('JSON: an invalid byte and a lone surrogate escape are reported, the rest of the record read', async () => {
    const head = Buffer.from(
      '{"iSAMS":{"HRManager":{"CurrentStaff":{"StaffMember":{"@Id":"12","Forename":"Al',
    );
    const tail = Buffer.from('ce","Surname":"Whitmore\\ud800","Title":"Mrs","TeachingStaff":"1"}}}}}');
    const doc = await parseBatchDocument(Buffer.concat([head, Buffer.from([0xed, 0xa0, 0x80]), tail]), {
      format: 'json',
    });
    const r = read('currentStaff', doc.datasets.currentStaff.records[0]!);
    expect(r.value).toMatchObject({
      id: '12',
      forename: undefined,
      surname: undefined,
      title: 'Mrs',
      teachingStaff: true,
    });
    expect(r.unreadable.sort()).toEqual(['forename', 'surname']);
    expect(r.findings.map((f) => f.field).sort()).toEqual(['Forename', 'Surname']);
  });
});

describe('typed view: control characters (JSON escapes read as the XML reader reads them)', () => {
  // Staff 12: a NUL in the surname, a form feed as the whole title, a Role whose Id holds a vertical
  // tab; staff with an Id that holds a vertical tab before it (trimming would drop it); a form whose
  // Id holds a NUL (FerretDB/PostgreSQL cannot store one: every retry of the run failed).
  const staff = [
    { Id: '12', Surname: 'Whit\u0000more', Title: '\u000c', Forename: 'Al\tice', Role: '4\u000b' },
    { Id: '\u000b13', Surname: 'Hale', Title: 'Mr', Forename: 'Ben', Role: '4' },
  ];
  const json = JSON.stringify({
    iSAMS: {
      HRManager: {
        CurrentStaff: {
          StaffMember: staff.map((s) => ({
            '@Id': s.Id,
            Forename: s.Forename,
            Surname: s.Surname,
            Title: s.Title,
            Roles: {
              Role: [
                { '@Id': s.Role, Name: 'Teacher' },
                { '@Id': '9', Name: 'Form Tutor' },
              ],
            },
          })),
        },
      },
      SchoolManager: { Forms: { Form: [{ '@Id': '9\u0000W', '@YearId': '9', Form: '9W' }] } },
    },
  });
  // The same document in XML, each control written as SQL Server's FOR XML writes it (`&#x0B;`).
  const ref = (s: string) =>
    s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `&#x${c.charCodeAt(0).toString(16)};`);
  const xml =
    '<iSAMS><HRManager><CurrentStaff>' +
    staff
      .map(
        (s) =>
          `<StaffMember Id="${ref(s.Id)}"><Forename>${ref(s.Forename)}</Forename><Surname>${ref(s.Surname)}</Surname>` +
          `<Title>${ref(s.Title)}</Title><Roles><Role Id="${ref(s.Role)}"><Name>Teacher</Name></Role>` +
          '<Role Id="9"><Name>Form Tutor</Name></Role></Roles></StaffMember>',
      )
      .join('') +
    '</CurrentStaff></HRManager><SchoolManager><Forms><Form Id="9&#x0;W" YearId="9"><Form>9W</Form></Form>' +
    '</Forms></SchoolManager></iSAMS>';

  const typed = async (body: string, format: 'json' | 'xml') => {
    const doc = await parseBatchDocument(body, { format });
    return {
      staff: doc.datasets.currentStaff.records.map((r) => toTyped('currentStaff', r)),
      forms: doc.datasets.schoolForms.records.map((r) => toTyped('schoolForms', r)),
    };
  };

  it('a C0 control other than tab, LF and CR is not text: a value unreadable, an identity leaves its record out', async () => {
    const {
      staff: [kept, dropped],
      forms: [form],
    } = await typed(json, 'json');
    expect(kept).toMatchObject({
      ok: true,
      value: { id: '12', forename: 'Al\tice', surname: undefined, title: undefined },
    });
    if (!kept!.ok) return;
    expect((kept.value.roles as { id: string }[]).map((r) => r.id)).toEqual(['9']);
    expect([...kept.unreadable].sort()).toEqual(['roles', 'surname', 'title']);
    expect(kept.findings.map((f) => `${f.code} ${f.field}`).sort()).toEqual([
      'ISAMS_FIELD_UNREADABLE Roles/Role/@Id',
      'ISAMS_FIELD_UNREADABLE Surname',
      'ISAMS_FIELD_UNREADABLE Title',
    ]);
    expect(kept.findings.find((f) => f.field === 'Surname')!.message).toMatch(/not valid text.*retype/s);
    for (const [r, field] of [
      [dropped, '@Id'],
      [form, '@Id'],
    ] as const) {
      expect(r).toMatchObject({ ok: false, finding: { code: 'ISAMS_RECORD_INVALID_FIELD', field } });
      // the finding is stored and shown: it never carries the control character itself
      expect(JSON.stringify(r)).not.toMatch(/\\u00[01]/);
    }
  });

  it('JSON and XML give the same typed records and findings', async () => {
    const fromJson = await typed(json, 'json');
    const fromXml = await typed(xml, 'xml');
    expect(fromXml.staff).toHaveLength(2);
    expect(fromJson).toEqual(fromXml);
  });
});
