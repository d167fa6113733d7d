import { describe, expect, it } from 'vitest';
import { DATASET_IDS } from '../../src/domain/isams-lib';
import type { RawElement } from '../../src/domain/isams-lib';
import { toDatasetRows } from '../../src/domain/dataset-rows';
import { layoutDocument } from '../../src/domain/document-layout';
import { SIZE_PROFILES, generateSchool } from '../../src/domain/generate-school';
import { renderXml } from '../../src/domain/xml-serializer';

const child = (e: RawElement, name: string): RawElement | undefined =>
  e.children.find((c) => c.name === name);
const text = (e: RawElement, name: string): string | undefined => child(e, name)?.text;
const xmlOf = (seed: number): string =>
  [
    ...renderXml(
      layoutDocument(toDatasetRows(generateSchool(seed, 'small')), new Set(DATASET_IDS), DATASET_IDS),
    ),
  ].join('');

describe('generateSchool', () => {
  it('is deterministic: the same seed gives byte-identical output, another seed differs', () => {
    expect(xmlOf(42)).toBe(xmlOf(42));
    expect(xmlOf(43)).not.toBe(xmlOf(42));
  });

  it.each(['small', 'medium', 'large'] as const)('produces the %s profile row counts exactly', (size) => {
    const rows = toDatasetRows(generateSchool(5, size));
    const p = SIZE_PROFILES[size];
    expect(rows.currentPupils).toHaveLength(p.pupils);
    expect(rows.currentStaff).toHaveLength(p.staff);
    expect(rows.contacts).toHaveLength(p.contactPeople);
    expect(rows.teachingSets).toHaveLength(p.sets);
    expect(rows.teachingSetLists).toHaveLength(p.setListRows);
    for (const d of DATASET_IDS) expect(rows[d].length, d).toBeGreaterThan(0);
  });

  it('matches the issue figures for large schools', () => {
    expect(SIZE_PROFILES.large).toMatchObject({
      pupils: 3000,
      staff: 400,
      contactPeople: 6000,
      sets: 1000,
      setListRows: 30000,
    });
    expect(SIZE_PROFILES.medium.pupils).toBe(1200);
    expect(SIZE_PROFILES.small.pupils).toBe(300);
  });

  describe('real-world quirks (reference §4)', () => {
    const model = generateSchool(42, 'medium');
    const rows = toDatasetRows(model);
    const currentIds = new Set(rows.currentPupils.map((p) => p.attributes.Id));
    const formIds = new Set(rows.schoolForms.map((f) => f.attributes.Id));

    it('has pupils with no form and with a form name that matches no form', () => {
      expect(rows.currentPupils.filter((p) => !child(p, 'Form')).length).toBeGreaterThanOrEqual(2);
      expect(rows.currentPupils.some((p) => child(p, 'Form') && !formIds.has(text(p, 'Form') ?? ''))).toBe(
        true,
      );
    });

    it('has dangling set-list rows for leavers and duplicate (set, pupil) rows', () => {
      expect(rows.teachingSetLists.some((r) => !currentIds.has(r.attributes.PupilId))).toBe(true);
      const seen = new Set<string>();
      let dupes = 0;
      for (const r of rows.teachingSetLists) {
        const k = `${r.attributes.SetId}/${r.attributes.PupilId}`;
        if (seen.has(k)) dupes += 1;
        seen.add(k);
      }
      expect(dupes).toBeGreaterThan(0);
    });

    it('lists one subject under two departments and has a department without subjects', () => {
      const subjectIds = rows.departmentsAndSubjects.flatMap(
        (d) => child(d, 'Subjects')?.children.map((s) => s.attributes.Id) ?? [],
      );
      expect(new Set(subjectIds).size).toBeLessThan(subjectIds.length);
      expect(rows.departmentsAndSubjects.some((d) => !child(d, 'Subjects'))).toBe(true);
    });

    it('has sets with no teacher and sets with several teachers and one primary', () => {
      expect(rows.teachingSets.some((s) => !child(s, 'Teachers'))).toBe(true);
      const multi = rows.teachingSets.find(
        (s) => (child(s, 'Teachers')?.children.length ?? 0) > 1,
      ) as RawElement;
      const flags = child(multi, 'Teachers')?.children.map((t) => t.attributes.PrimaryTeacher);
      expect(flags?.filter((f) => f === 'True')).toHaveLength(1);
      expect(flags).toContain('False');
    });

    it('emits joint contacts as two rows of one record told apart by IsFirstPersonContact', () => {
      const byId = new Map<string, RawElement[]>();
      for (const c of rows.contacts)
        byId.set(c.attributes.Id as string, [...(byId.get(c.attributes.Id as string) ?? []), c]);
      const joint = [...byId.values()].find((list) => list.length === 2) as RawElement[];
      expect(joint.map((c) => c.attributes.IsFirstPersonContact)).toEqual(['True', 'False']);
      expect(joint[0]?.attributes.PersonId).not.toBe(joint[1]?.attributes.PersonId);
      expect(
        rows.contacts.some((c) => child(c, 'Pupils')?.children.some((p) => text(p, 'Status') === 'Former')),
      ).toBe(true);
    });

    it('has non-ASCII names, apostrophes and ampersands', () => {
      const names = rows.currentPupils.map((p) => `${text(p, 'Forename')} ${text(p, 'Surname')}`).join('|');
      expect(names).toMatch(/[éñøŁ]/);
      expect(names).toContain("O'");
      expect(rows.departmentsAndSubjects.some((d) => text(d, 'Name')?.includes('&'))).toBe(true);
    });

    it('has negative NC years and deleted and expired custom groups', () => {
      expect(rows.yearGroups.map((y) => Number(y.attributes.Id))).toEqual(
        expect.arrayContaining([-2, -1, 0]),
      );
      expect(rows.currentPupils.some((p) => Number(text(p, 'NCYear')) < 0)).toBe(true);
      expect(rows.customGroups.some((g) => text(g, 'Deleted') === '1')).toBe(true);
      expect(rows.customGroups.some((g) => (text(g, 'ExpiryDate') ?? '9') < '2024')).toBe(true);
      expect(rows.customGroups.some((g) => child(g, 'ExpiryDate')?.text === undefined)).toBe(true);
    });

    it('has a whitespace-only staff name, a form without tutor and a tutor who has left', () => {
      expect(
        rows.currentStaff.some((s) => text(s, 'Initials') === ' ' && text(s, 'FullName') === '   '),
      ).toBe(true);
      expect(rows.schoolForms.some((f) => f.attributes.TutorId === undefined)).toBe(true);
      const staffIds = new Set(rows.currentStaff.map((s) => s.attributes.Id));
      expect(
        rows.schoolForms.some(
          (f) => f.attributes.TutorId !== undefined && !staffIds.has(f.attributes.TutorId),
        ),
      ).toBe(true);
    });

    it('omits NULL fields and keeps empty strings as empty elements', () => {
      expect(rows.currentPupils.some((p) => !child(p, 'EmailAddress'))).toBe(true);
      const emptyTitle = rows.currentPupils.find((p) => child(p, 'Title')?.text === undefined);
      expect(emptyTitle && child(emptyTitle, 'Title')).toEqual({
        name: 'Title',
        attributes: {},
        children: [],
      });
    });
  });
});
