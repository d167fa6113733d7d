import { describe, expect, it } from 'vitest';
import { decideBatch } from '../../src/domain/batch-decision';
import { batchRequest as req } from '../support/batch-request';
import {
  DEFAULT_GENERATION_MODEL,
  decideGeneration,
  generationCost,
} from '../../src/domain/generation-model';
import { DATASET_IDS } from '../../src/domain/isams-lib';
import type { DatasetId } from '../../src/domain/isams-lib';
import { createGeneratedSchool, liveRows } from '../../src/domain/simulated-school';

const methods = (...names: string[]) =>
  `<Filters><MethodsToRun>${names.map((n) => `<Method>${n}</Method>`).join('')}</MethodsToRun></Filters>`;
const methodOf = (d: DatasetId): string =>
  ({
    currentStaff: 'HumanResources_GetCurrentStaff',
    contacts: 'Pupil_GetContactsFiltered',
    currentPupils: 'Pupil_GetCurrentPupils',
    customGroupMembership: 'Pupil_GetCustomPupilGroupMembership',
    customGroups: 'Pupil_GetCustomPupilGroups',
    academicHouses: 'School_GetAcademicHouses',
    boardingHouses: 'School_GetBoardingHouses',
    schoolForms: 'School_GetSchoolForms',
    schoolDivisions: 'School_GetSchoolDivisions',
    yearGroups: 'School_GetAllYears',
    departmentsAndSubjects: 'Teaching_GetDepartmentsAndSubjects',
    teachingForms: 'Teaching_GetTeachingForms',
    teachingSets: 'Teaching_GetTeachingSets',
    teachingSetLists: 'Teaching_GetTeachingSetLists',
  })[d];

const HR_AND_SCHOOL = [
  'HumanResources_GetCurrentStaff',
  'School_GetAcademicHouses',
  'School_GetBoardingHouses',
  'School_GetSchoolForms',
  'School_GetSchoolDivisions',
  'School_GetAllYears',
];
const containersOf = (o: ReturnType<typeof decideBatch>) =>
  o.kind === 'document' ? o.layout.flatMap((m) => m.containers.map((c) => c.dataset)).sort() : [];

describe('generation time model', () => {
  it('costs what is generated: every requested method plus the rows of its dataset (the school size)', () => {
    const model = { ...DEFAULT_GENERATION_MODEL, msPerMethod: 100, msPer1000Rows: 500 };
    const small = liveRows(createGeneratedSchool('s', 1, 'small'));
    const medium = liveRows(createGeneratedSchool('m', 1, 'medium'));
    const all = generationCost(model, small, DATASET_IDS);
    const rows = DATASET_IDS.reduce((n, d) => n + small[d].length, 0);
    expect(all).toEqual({ methods: 14, rows, ms: Math.round(14 * 100 + (rows / 1000) * 500) });
    const years = generationCost(model, small, ['yearGroups']);
    expect(years).toEqual({ methods: 1, rows: 16, ms: Math.round(100 + (16 / 1000) * 500) });
    // Fewer methods, less time; a bigger school, more time for the same methods.
    expect(generationCost(model, small, ['teachingSets', 'teachingSetLists']).ms).toBeLessThan(all.ms);
    expect(generationCost(model, medium, DATASET_IDS).ms).toBeGreaterThan(all.ms);
  });

  it('times out at the limit when the generation would take longer, and is instant with the defaults', () => {
    const model = { ...DEFAULT_GENERATION_MODEL, limitMs: 1_000 };
    expect(decideGeneration(model, { methods: 14, rows: 5_000, ms: 1_001 }, 0.5)).toEqual({
      kind: 'timeout',
      ms: 1_000,
    });
    expect(decideGeneration(model, { methods: 3, rows: 5_000, ms: 1_000 }, 0.5)).toEqual({
      kind: 'generated',
      ms: 1_000,
    });
    const school = createGeneratedSchool('d', 1, 'large');
    const cost = generationCost(DEFAULT_GENERATION_MODEL, liveRows(school), DATASET_IDS);
    expect(cost.ms).toBe(0);
    expect(decideGeneration(DEFAULT_GENERATION_MODEL, cost, 0)).toEqual({ kind: 'generated', ms: 0 });
    expect(DEFAULT_GENERATION_MODEL.limitMs).toBe(35_000);
  });

  it('deadlocks more often the more rows a request generates, reproducibly for the same school', () => {
    const model = { ...DEFAULT_GENERATION_MODEL, deadlockPer1000Rows: 0.2 };
    const outcomes = (schoolId: string, datasets: readonly DatasetId[]) => {
      const school = createGeneratedSchool(schoolId, 1, 'small', { cacheMode: 'bypass' });
      school.server.generation = model;
      const body = datasets.length === DATASET_IDS.length ? undefined : methods(...datasets.map(methodOf));
      return Array.from({ length: 200 }, (_, i) => decideBatch(school, req({ now: i, body })).kind);
    };
    const whole = outcomes('seeded', DATASET_IDS);
    const years = outcomes('seeded', ['yearGroups']);
    const count = (xs: string[]) => xs.filter((k) => k === 'message').length;
    expect(count(whole)).toBeGreaterThan(50);
    expect(count(years)).toBeLessThan(5);
    expect(count(whole)).toBeGreaterThan(10 * Math.max(1, count(years)));
    // Same school, same sequence of requests ⇒ the same deadlocks (tests are reproducible).
    expect(outcomes('seeded', DATASET_IDS)).toEqual(whole);
    expect(outcomes('another', DATASET_IDS)).not.toEqual(whole);
  });
});

describe('decideBatch with a generation limit', () => {
  const slowSchool = () => {
    const school = createGeneratedSchool('big', 1, 'small', { cacheMode: 'cached' });
    // 2,821 rows at 500 ms per 1,000 rows ≈ 1.4 s for the whole key; the limit is 1 s.
    school.server.generation = { ...DEFAULT_GENERATION_MODEL, limitMs: 1_000, msPer1000Rows: 500 };
    return school;
  };

  it('answers the whole key with the 500 UnhandledException time-out after the limit, and caches nothing', () => {
    const school = slowSchool();
    const out = decideBatch(school, req());
    expect(out).toMatchObject({
      kind: 'message',
      delayMs: 1_000,
      spec: { messageId: 'UnhandledException', httpStatus: 500 },
    });
    expect(out.kind === 'message' && out.spec.description).toMatch(/^Execution Timeout Expired/);
    expect(school.cache.size).toBe(0);
    expect(school.stats).toMatchObject({ requests: 1, generationTimeouts: 1, documents: 0 });
  });

  it('generates only the MethodsToRun of a grouped request, which therefore fits in the limit', () => {
    const school = slowSchool();
    const out = decideBatch(school, req({ body: methods(...HR_AND_SCHOOL) }));
    expect(out.kind).toBe('document');
    expect(containersOf(out)).toEqual(
      [
        'academicHouses',
        'boardingHouses',
        'currentStaff',
        'schoolDivisions',
        'schoolForms',
        'yearGroups',
      ].sort(),
    );
    const rows = liveRows(school);
    const expected = Math.round(
      ((rows.currentStaff.length +
        rows.academicHouses.length +
        rows.boardingHouses.length +
        rows.schoolForms.length +
        rows.schoolDivisions.length +
        rows.yearGroups.length) /
        1000) *
        500,
    );
    expect(out).toMatchObject({ delayMs: expected, cacheHit: false });
    // A cached copy is served without generating again.
    expect(decideBatch(school, req({ now: 1_000_500, body: methods(...HR_AND_SCHOOL) }))).toMatchObject({
      kind: 'document',
      delayMs: 0,
      cacheHit: true,
    });
    expect(school.stats).toMatchObject({ requests: 2, documents: 2, generationTimeouts: 0 });
  });

  it('refuses a method that is not on the key with the 403 naming it lower-cased, before generating', () => {
    const school = slowSchool();
    school.key.datasets = school.key.datasets.filter((d) => d !== 'teachingSets');
    const out = decideBatch(
      school,
      req({ body: methods('Teaching_GetTeachingSets', 'School_GetAllYears', 'Pupil_GetContacts') }),
    );
    expect(out).toMatchObject({
      kind: 'message',
      delayMs: 0,
      spec: { messageId: 'MethodsNotAllocatedToKeyException', httpStatus: 403 },
      params: { methods: 'teaching_getteachingsets, pupil_getcontacts' },
    });
    expect(school.stats).toMatchObject({ requests: 1, methodsNotAllocated: 1, generationTimeouts: 0 });
  });
});
