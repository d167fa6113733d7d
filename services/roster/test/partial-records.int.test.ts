import { describe, expect, it } from 'vitest';
import { useStartedRoster } from './support/started-roster';
import { DATASET_IDS, parseBatchDocument } from '@isams-sync/isams';
import { uniqueName } from '@isams-sync/testing';
import { runFinished, storedRoster } from './support/harness';
import { publishSnapshot } from './support/school-feed';
import type { Datasets } from './support/school-feed';

/**
 * Issue #14 item 1, end to end through the roster (real Kafka + FerretDB): a school synced once,
 * then a Batch API document — real-shaped XML, and JSON with single-object and `#text` shapes —
 * whose records carry values the strict reader used to refuse. Nobody is removed, the readable
 * fields are updated, the unreadable ones keep their stored values, and the run's findings name
 * record and field.
 */

const roster = useStartedRoster();

/** The pieces of a small school's XML document that the odd variant replaces. */
interface Parts {
  staff12: string;
  staff15: string;
  pupil710: string;
  contact3001: string;
  set501: string;
  setLists: string;
  memberships: string;
  group77: string;
}

const SEED: Parts = {
  staff12: `<StaffMember Id="12" PersonId="2041"><Initials>AHW</Initials><UserCode>AW01</UserCode><Title>Mrs</Title><Forename>Alice</Forename><Surname>Whitmore</Surname><FullName>Alice Whitmore</FullName><DOB>1979-03-14T00:00:00</DOB><TeachingStaff>1</TeachingStaff><Roles><Role Id="4"><Name>Teacher - Mathematics</Name></Role><Role Id="9"><Name>Form Tutor</Name></Role></Roles><Divisions><Division Id="3"><Name>Senior School</Name></Division></Divisions></StaffMember>`,
  staff15: `<StaffMember Id="15" PersonId="2050"><Initials>RTP</Initials><UserCode>RP01</UserCode><Title>Mr</Title><Forename>Robert</Forename><Surname>Pike</Surname><FullName>Robert Pike</FullName><PreferredName>Rob</PreferredName><TeachingStaff>1</TeachingStaff><Roles><Role Id="5"><Name>Teacher - Physics</Name></Role></Roles></StaffMember>`,
  pupil710: `<Pupil Id="710" PersonId="1068" AcademicHouseId="2"><SchoolId>123456789012</SchoolId><Forename>Oliver</Forename><Surname>Grant</Surname><Fullname>Oliver Grant</Fullname><DOB>2011-05-02T00:00:00</DOB><Form>9W</Form><NCYear>9</NCYear><Tutor>AW01</Tutor></Pupil>`,
  contact3001: `<Contact Id="3001" PersonId="5001" IsFirstPersonContact="True"><Forename>Daniel</Forename><Surname>Grant</Surname><RelationshipRaw>Father</RelationshipRaw><MailMergeAll>1</MailMergeAll><CorrespondenceMailMerge>0</CorrespondenceMailMerge><Pupils><Pupil Id="710"><SchoolId Legacy="True">123456789012</SchoolId><Status>Current</Status></Pupil></Pupils></Contact>`,
  set501: `<Set Id="501" SubjectId="21" YearId="9"><SubjectId Legacy="True">21</SubjectId><SetCode>9/Ma1</SetCode><Name>9/Ma1</Name><Teachers><Teacher Id="801" StaffId="12" PrimaryTeacher="True"/><Teacher Id="802" StaffId="15" PrimaryTeacher="False"/></Teachers><LastUpdated>2024-09-02T14:09:09</LastUpdated></Set>`,
  setLists: `<SetList Id="12001" SetId="501" PupilId="710"/><SetList Id="12002" SetId="501" PupilId="733"/><SetList Id="12003" SetId="502" PupilId="734"><LastUpdated></LastUpdated></SetList>`,
  memberships: `<CustomPupilGroupMembershipItem Id="9001" PupilID="710"><CustomGroupId>77</CustomGroupId></CustomPupilGroupMembershipItem><CustomPupilGroupMembershipItem Id="9002" PupilID="733"><CustomGroupId>77</CustomGroupId></CustomPupilGroupMembershipItem>`,
  group77: `<CustomPupilGroup Id="77" AuthorID="41"><Name>Chess Club</Name><CategoryId>3</CategoryId><Shared>1</Shared><ExpiryDate></ExpiryDate><ExpiryDisable>0</ExpiryDisable></CustomPupilGroup>`,
};

function schoolXml(p: Parts): string {
  return `<iSAMS>
<HRManager><CurrentStaff>${p.staff12}${p.staff15}<StaffMember Id="16" PersonId="2060"><UserCode>TO01</UserCode><Forename>Tom</Forename><Surname>Other</Surname><TeachingStaff>0</TeachingStaff></StaffMember></CurrentStaff></HRManager>
<PupilManager>
<CurrentPupils>${p.pupil710}<Pupil Id="733" PersonId="1101"><SchoolId>123456789045</SchoolId><Forename>Maya</Forename><Surname>Okafor</Surname><Form>9W</Form><NCYear>9</NCYear></Pupil><Pupil Id="734" PersonId="1102"><Forename>Sam</Forename><Surname>Reed</Surname><Form>9W</Form><NCYear>9</NCYear></Pupil></CurrentPupils>
<Contacts>${p.contact3001}<Contact Id="3002" PersonId="5002" IsFirstPersonContact="True"><Forename>Ada</Forename><Surname>Okafor</Surname><MailMergeAll>1</MailMergeAll><Pupils><Pupil Id="733"><Status>Current</Status></Pupil></Pupils></Contact></Contacts>
<CustomPupilGroups>${p.group77}</CustomPupilGroups>
<CustomPupilGroupMembershipItems>${p.memberships}</CustomPupilGroupMembershipItems>
</PupilManager>
<SchoolManager>
<AcademicHouses><House Id="2" HouseMasterId="15"><HouseMaster Legacy="True">RP01</HouseMaster><Name>Kestrel</Name></House></AcademicHouses>
<Forms><Form Id="9W" TutorId="12" YearId="9"><Tutor Legacy="True">AW01</Tutor><Form>9W</Form></Form></Forms>
<SchoolDivisions><SchoolDivision Id="3"><Name>Senior School</Name><Years><Year Id="70" YearId="9"/></Years></SchoolDivision></SchoolDivisions>
<Years><Year Id="9" TutorId="15"><Name>Year 9</Name></Year></Years>
</SchoolManager>
<TeachingManager>
<Departments><Department Id="4"><Name>Mathematics</Name><Subjects><Subject Id="21"><Name>Mathematics</Name><Code>Ma</Code></Subject><Subject Id="22"><Name>Physics</Name></Subject></Subjects></Department></Departments>
<Sets>${p.set501}<Set Id="502" SubjectId="22" YearId="9"><SetCode>9/Ph1</SetCode><Teachers><Teacher Id="803" StaffId="15" PrimaryTeacher="True"/></Teachers></Set></Sets>
<SetLists>${p.setLists}</SetLists>
</TeachingManager>
</iSAMS>`;
}

/** The odd document as XML: values the strict reader refused, plus readable changes next to them. */
const ODD_XML = schoolXml({
  ...SEED,
  staff12: SEED.staff12
    .replace('<TeachingStaff>1</TeachingStaff>', '<TeachingStaff>Y</TeachingStaff>')
    .replace(/Whitmore</g, 'Whitmore-Jones<'),
  staff15: SEED.staff15
    .replace(
      '<Role Id="5"><Name>Teacher - Physics</Name></Role>',
      '<Role><Name>Head of Physics</Name></Role>',
    )
    .replace('<PreferredName>Rob</PreferredName>', '<PreferredName>Bob</PreferredName>'),
  pupil710: SEED.pupil710
    .replace('<NCYear>9</NCYear>', '<NCYear>Year 9</NCYear>')
    .replace('<DOB>2011-05-02T00:00:00</DOB>', '<DOB>31/02/2011</DOB>')
    .replace('AcademicHouseId="2"', 'AcademicHouseId="Kestrel"')
    .replace('<Forename>Oliver</Forename>', '<Forename>Olly</Forename>'),
  contact3001: SEED.contact3001
    .replace('<MailMergeAll>1</MailMergeAll>', '<MailMergeAll>maybe</MailMergeAll>')
    .replace('<Pupil Id="710">', '<Pupil>')
    .replace('<RelationshipRaw>Father</RelationshipRaw>', '<RelationshipRaw>Stepfather</RelationshipRaw>'),
  set501: SEED.set501
    .replace('PrimaryTeacher="True"', 'PrimaryTeacher="Maybe"')
    .replace('<Name>9/Ma1</Name>', '<Name>9 Maths 1</Name>'),
  // row 12002 is gone (pupil 733 really left set 501) but row 12004 has no PupilId: it might be that row
  setLists: `<SetList Id="12001" SetId="501" PupilId="710"/><SetList Id="12003" SetId="502" PupilId="734"><LastUpdated>yesterday</LastUpdated></SetList><SetList Id="12004" SetId="502"/>`,
  // membership 9002 has an unreadable group id; 9001 is unchanged
  memberships: SEED.memberships.replace(/(Id="9002" PupilID="733"><CustomGroupId>)77/, '$1seventy-seven'),
  group77: SEED.group77
    .replace('<Shared>1</Shared>', '<Shared>N</Shared>')
    .replace('<ExpiryDate></ExpiryDate>', '<ExpiryDate>soon</ExpiryDate>'),
});

/** The same odd document as `json.ashx` would send it (Json.NET: single objects, `#text`, `@` attributes, null). */
const ODD_JSON = JSON.stringify({
  iSAMS: {
    HRManager: {
      CurrentStaff: {
        StaffMember: [
          {
            '@Id': '12',
            '@PersonId': '2041',
            Initials: 'AHW',
            UserCode: 'AW01',
            Title: 'Mrs',
            Forename: 'Alice',
            Surname: 'Whitmore-Jones',
            FullName: 'Alice Whitmore-Jones',
            DOB: '1979-03-14T00:00:00',
            TeachingStaff: { '@Legacy': 'True', '#text': 'Y' },
            Roles: {
              Role: [
                { '@Id': '4', Name: 'Teacher - Mathematics' },
                { '@Id': '9', Name: 'Form Tutor' },
              ],
            },
            Divisions: { Division: { '@Id': '3', Name: 'Senior School' } },
          },
          {
            '@Id': '15',
            '@PersonId': '2050',
            Initials: 'RTP',
            UserCode: 'RP01',
            Title: 'Mr',
            Forename: 'Robert',
            Surname: 'Pike',
            FullName: 'Robert Pike',
            PreferredName: 'Bob',
            TeachingStaff: '1',
            Roles: { Role: { Name: 'Head of Physics' } },
          },
          {
            '@Id': '16',
            '@PersonId': '2060',
            UserCode: 'TO01',
            Forename: 'Tom',
            Surname: 'Other',
            TeachingStaff: '0',
          },
        ],
      },
    },
    PupilManager: {
      CurrentPupils: {
        Pupil: [
          {
            '@Id': '710',
            '@PersonId': '1068',
            '@AcademicHouseId': 'Kestrel',
            SchoolId: '123456789012',
            Forename: 'Olly',
            Surname: 'Grant',
            Fullname: 'Oliver Grant',
            DOB: '31/02/2011',
            Form: '9W',
            NCYear: 'Year 9',
            Tutor: 'AW01',
          },
          {
            '@Id': '733',
            '@PersonId': '1101',
            SchoolId: '123456789045',
            Forename: 'Maya',
            Surname: 'Okafor',
            Form: '9W',
            NCYear: '9',
          },
          { '@Id': '734', '@PersonId': '1102', Forename: 'Sam', Surname: 'Reed', Form: '9W', NCYear: '9' },
        ],
      },
      Contacts: {
        Contact: [
          {
            '@Id': '3001',
            '@PersonId': '5001',
            '@IsFirstPersonContact': 'True',
            Forename: 'Daniel',
            Surname: 'Grant',
            RelationshipRaw: 'Stepfather',
            MailMergeAll: 'maybe',
            CorrespondenceMailMerge: '0',
            Pupils: {
              Pupil: { SchoolId: { '@Legacy': 'True', '#text': '123456789012' }, Status: 'Current' },
            },
          },
          {
            '@Id': '3002',
            '@PersonId': '5002',
            '@IsFirstPersonContact': 'True',
            Forename: 'Ada',
            Surname: 'Okafor',
            MailMergeAll: '1',
            Pupils: { Pupil: { '@Id': '733', Status: 'Current' } },
          },
        ],
      },
      CustomPupilGroups: {
        CustomPupilGroup: {
          '@Id': '77',
          '@AuthorID': '41',
          Name: 'Chess Club',
          CategoryId: '3',
          Shared: 'N',
          ExpiryDate: 'soon',
          ExpiryDisable: '0',
        },
      },
      CustomPupilGroupMembershipItems: {
        CustomPupilGroupMembershipItem: [
          { '@Id': '9001', '@PupilID': '710', CustomGroupId: '77' },
          { '@Id': '9002', '@PupilID': '733', CustomGroupId: { '#text': 'seventy-seven' } },
        ],
      },
    },
    SchoolManager: {
      AcademicHouses: {
        House: {
          '@Id': '2',
          '@HouseMasterId': '15',
          HouseMaster: { '@Legacy': 'True', '#text': 'RP01' },
          Name: 'Kestrel',
        },
      },
      Forms: {
        Form: {
          '@Id': '9W',
          '@TutorId': '12',
          '@YearId': '9',
          Tutor: { '@Legacy': 'True', '#text': 'AW01' },
          Form: '9W',
        },
      },
      SchoolDivisions: {
        SchoolDivision: {
          '@Id': '3',
          Name: 'Senior School',
          Years: { Year: { '@Id': '70', '@YearId': '9' } },
        },
      },
      Years: { Year: { '@Id': '9', '@TutorId': '15', Name: 'Year 9' } },
    },
    TeachingManager: {
      Departments: {
        Department: {
          '@Id': '4',
          Name: 'Mathematics',
          Subjects: {
            Subject: [
              { '@Id': '21', Name: 'Mathematics', Code: 'Ma' },
              { '@Id': '22', Name: 'Physics' },
            ],
          },
        },
      },
      Sets: {
        Set: [
          {
            '@Id': '501',
            '@SubjectId': '21',
            '@YearId': '9',
            SubjectId: { '@Legacy': 'True', '#text': '21' },
            SetCode: '9/Ma1',
            Name: '9 Maths 1',
            Teachers: {
              Teacher: [
                { '@Id': '801', '@StaffId': '12', '@PrimaryTeacher': 'Maybe' },
                { '@Id': '802', '@StaffId': '15', '@PrimaryTeacher': 'False' },
              ],
            },
            LastUpdated: '2024-09-02T14:09:09',
          },
          {
            '@Id': '502',
            '@SubjectId': '22',
            '@YearId': '9',
            SetCode: '9/Ph1',
            Teachers: { Teacher: { '@Id': '803', '@StaffId': '15', '@PrimaryTeacher': 'True' } },
          },
        ],
      },
      SetLists: {
        SetList: [
          { '@Id': '12001', '@SetId': '501', '@PupilId': '710' },
          { '@Id': '12003', '@SetId': '502', '@PupilId': '734', LastUpdated: 'yesterday' },
          { '@Id': '12004', '@SetId': '502', LastUpdated: null },
        ],
      },
    },
  },
});

async function datasetsOf(doc: string, format: 'xml' | 'json'): Promise<Datasets> {
  const parsed = await parseBatchDocument(doc, { format });
  const out: Datasets = {};
  for (const d of DATASET_IDS) if (parsed.datasets[d].present) out[d] = parsed.datasets[d].records;
  return out;
}

const FINDINGS_EXPECTED = [
  'ISAMS_FIELD_UNREADABLE currentStaff 15 Roles/Role/@Id',
  'ISAMS_FIELD_UNREADABLE currentPupils 710 NCYear',
  'ISAMS_FIELD_UNREADABLE currentPupils 710 DOB',
  'ISAMS_FIELD_UNREADABLE currentPupils 710 @AcademicHouseId',
  'ISAMS_FIELD_UNREADABLE contacts 3001 MailMergeAll',
  'ISAMS_FIELD_UNREADABLE contacts 3001 Pupils/Pupil/@Id',
  'ISAMS_FIELD_UNREADABLE teachingSets 501 Teachers/Teacher/@PrimaryTeacher',
  'ISAMS_FIELD_UNREADABLE teachingSetLists 12003 LastUpdated',
  'ISAMS_FIELD_UNREADABLE customGroups 77 ExpiryDate',
  'ISAMS_RECORD_INVALID_FIELD teachingSetLists 12004 @PupilId',
  'ISAMS_RECORD_INVALID_FIELD customGroupMembership 9002 CustomGroupId',
  'ROSTER_REMOVALS_SUSPENDED teachingSetLists',
  'ROSTER_REMOVALS_SUSPENDED customGroupMembership',
].sort();

for (const [format, odd] of [
  ['XML', () => datasetsOf(ODD_XML, 'xml')],
  ['JSON', () => datasetsOf(ODD_JSON, 'json')],
] as const) {
  describe(`roster: partially readable records (${format})`, { timeout: 240_000 }, () => {
    it('nobody is removed; readable fields update, unreadable ones keep their stored values; findings name record and field', async () => {
      const t = uniqueName('school');
      await publishSnapshot(
        roster.h.producer,
        roster.h.topics.raw,
        t,
        'seed',
        await datasetsOf(schoolXml(SEED), 'xml'),
      );
      expect((await runFinished(roster.app, t, 'seed')).outcome).toBe('applied');
      const before = await storedRoster(roster.app.store, t);

      await publishSnapshot(roster.h.producer, roster.h.topics.raw, t, 'odd', await odd());
      const cs = await runFinished(roster.app, t, 'odd');
      expect(cs).toMatchObject({ state: 'done', outcome: 'applied', heldCount: 0 });

      const changes = await roster.rpc.call('listRunChanges')({ syncRunId: 'odd' }, t);
      const summary = changes.changes
        .map((c) => `${c.change} ${c.entityType} ${c.entityId} ${c.changedFields.join(',')}`)
        .sort();
      expect(summary).toEqual(
        [
          'updated contact 5001 relationship',
          'updated customGroup 77 shared',
          'updated pupil 710 forename',
          'updated staff 12 fullName,surname',
          'updated staff 15 preferredName',
          'updated teachingSet 501 name',
        ].sort(),
      );

      const after = await storedRoster(roster.app.store, t);
      expect(after.filter((e) => e.status !== 'active')).toEqual([]);
      expect(after.map((e) => `${e.t}/${e.id}`)).toEqual(before.map((e) => `${e.t}/${e.id}`));
      const image = (type: string, id: string) => after.find((e) => e.t === type && e.id === id)!.data;
      expect(image('staff', '12')).toMatchObject({
        surname: 'Whitmore-Jones',
        teaching: true,
        roles: [{ id: '4' }, { id: '9' }],
      });
      expect(image('staff', '15')).toMatchObject({
        preferredName: 'Bob',
        roles: [{ id: '5', name: 'Teacher - Physics' }],
      });
      expect(image('pupil', '710')).toMatchObject({
        forename: 'Olly',
        yearGroupId: '9',
        dob: '2011-05-02T00:00:00',
        academicHouseId: '2',
      });
      expect(image('contact', '5001')).toMatchObject({
        relationship: 'Stepfather',
        mailMergeAll: true,
        pupils: [{ pupilId: '710' }],
      });
      expect(image('teachingSet', '501')).toMatchObject({
        name: '9 Maths 1',
        primaryTeacherStaffId: '12',
        teachers: [
          { staffId: '12', primary: true },
          { staffId: '15', primary: false },
        ],
      });
      expect(image('customGroup', '77')).toMatchObject({ shared: false });
      expect(after.filter((e) => e.t === 'setMembership').map((e) => e.id)).toEqual([
        '501:710',
        '501:733',
        '502:734',
      ]);
      expect(after.filter((e) => e.t === 'customGroupMembership').map((e) => e.id)).toEqual([
        '77:710',
        '77:733',
      ]);

      const findings = await roster.rpc.call('listRunFindings')(
        { syncRunId: 'odd', page: { pageSize: 200 } },
        t,
      );
      const named = findings.findings.map(
        (f) => `${f.code} ${f.datasetId}${f.recordId ? ` ${f.recordId}` : ''}${f.field ? ` ${f.field}` : ''}`,
      );
      expect(named.filter((f) => f.startsWith('ISAMS_') || f.startsWith('ROSTER_REMOVALS')).sort()).toEqual(
        FINDINGS_EXPECTED,
      );
      for (const f of findings.findings.filter((x) => x.code === 'ISAMS_FIELD_UNREADABLE')) {
        expect(f.message).toMatch(/In iSAMS/);
        expect(f.message).not.toMatch(/31\/02\/2011|Head of Physics|Grant|Okafor/);
      }
    });
  });
}
