import { DATASET_IDS } from '@isams-sync/isams';
import type { DatasetId } from '@isams-sync/isams';
import { describe, expect, it } from 'vitest';
import {
  MODULE_GROUPS,
  MethodGroupPlanner,
  WHOLE_KEY_PLAN,
  WHOLE_KEY_RETRY_AFTER_MS,
  backToWholeKey,
  needsSmallerRequests,
  normalisePlan,
  splitGroup,
  stillInGroups,
  switchToGroups,
  wholeKeyRetryDue,
} from '../../src/domain/method-groups';
import type { FetchPlan, GroupRequest } from '../../src/domain/method-groups';

const CANDIDATES = ['Pupil_GetContactsFiltered', 'Pupil_GetContacts'];
const AT = new Date('2026-03-01T08:00:00Z');
const groupsPlan = (groups: DatasetId[][], extra: Partial<FetchPlan> = {}): FetchPlan => ({
  mode: 'groups',
  groups,
  switchedBecause: 'ISAMS_TIMEOUT',
  switchedAt: AT,
  ...extra,
});
const names = (r: GroupRequest) => r.methods.map((m) => m.name);
/** The module groups as a fresh, mutable plan's groups. */
const moduleGroups = (): DatasetId[][] => MODULE_GROUPS.map((g) => [...g]);
/** A planner on the module groups (the plan right after a switch), with `extra` learnt before. */
const modulePlanner = (extra: Partial<FetchPlan> = {}) =>
  new MethodGroupPlanner(groupsPlan(moduleGroups(), extra), CANDIDATES);

/** Drives a planner to the end, answering every request with `answer`. */
function drive(
  planner: MethodGroupPlanner,
  answer: (r: GroupRequest) => Parameters<MethodGroupPlanner['record']>[1],
): { requests: GroupRequest[]; failure?: DatasetId[] } {
  const requests: GroupRequest[] = [];
  for (let r = planner.next(); r; r = planner.next()) {
    requests.push(r);
    const d = planner.record(r, answer(r));
    if (d.action === 'fail') return { requests, failure: d.datasets };
    if (requests.length > 100) throw new Error('planner does not terminate');
  }
  return { requests };
}
const allPresent = (r: GroupRequest) => ({ kind: 'fetched' as const, present: r.datasets });

describe('which groups', () => {
  it('starts from the iSAMS modules: HR + School Manager, Pupil Manager, Teaching Manager — every dataset once', () => {
    expect(MODULE_GROUPS).toEqual([
      ['currentStaff', 'academicHouses', 'boardingHouses', 'schoolForms', 'schoolDivisions', 'yearGroups'],
      ['contacts', 'currentPupils', 'customGroupMembership', 'customGroups'],
      ['departmentsAndSubjects', 'teachingForms', 'teachingSets', 'teachingSetLists'],
    ]);
    expect(MODULE_GROUPS.flat().sort()).toEqual([...DATASET_IDS].sort());
    expect(switchToGroups(WHOLE_KEY_PLAN, 'ISAMS_TIMEOUT', AT)).toEqual(groupsPlan(moduleGroups()));
  });

  it('switches to groups only for failures a smaller request can avoid', () => {
    for (const code of ['ISAMS_TIMEOUT', 'ISAMS_SERVER_BUSY', 'ISAMS_RESPONSE_TOO_LARGE'])
      expect(needsSmallerRequests(code), code).toBe(true);
    for (const code of [
      'ISAMS_INVALID_KEY',
      'ISAMS_IP_NOT_ALLOWED',
      'ISAMS_THROTTLED',
      'ISAMS_TRUNCATED_DOCUMENT',
      'ISAMS_MALFORMED_DOCUMENT',
      'ISAMS_CONNECTION_REFUSED',
      'ISAMS_METHODS_NOT_ALLOCATED',
    ])
      expect(needsSmallerRequests(code), code).toBe(false);
  });

  it('a time-out while connecting is not the generation limit: no switch to groups', () => {
    // The host, the network or an allow-list that drops packets: a smaller request cannot avoid it.
    expect(needsSmallerRequests('ISAMS_TIMEOUT', 'UND_ERR_CONNECT_TIMEOUT')).toBe(false);
    expect(needsSmallerRequests('ISAMS_TIMEOUT', 'ETIMEDOUT')).toBe(false);
    // Waiting for the headers or the body is what a generation that takes too long looks like.
    expect(needsSmallerRequests('ISAMS_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT')).toBe(true);
    expect(needsSmallerRequests('ISAMS_TIMEOUT', 'UND_ERR_BODY_TIMEOUT')).toBe(true);
  });

  it('repairs a stored plan so that every dataset is requested exactly once', () => {
    expect(normalisePlan(null)).toEqual(WHOLE_KEY_PLAN);
    const repaired = normalisePlan(
      groupsPlan([
        ['currentStaff', 'currentStaff', 'yearGroups'],
        ['bogus' as DatasetId],
        [],
        ['teachingSets', 'teachingSetLists'],
      ]),
    );
    expect(repaired.groups[0]).toEqual(['currentStaff', 'yearGroups']);
    expect(repaired.groups[1]).toEqual(['teachingSets', 'teachingSetLists']);
    expect(repaired.groups.flat().sort()).toEqual([...DATASET_IDS].sort());
    expect(repaired.groups.every((g) => g.length > 0)).toBe(true);
  });
});

describe('back to the whole key', () => {
  it('a school in groups tries the whole key again a week after it last needed groups', () => {
    const plan = groupsPlan(moduleGroups());
    const after = (ms: number) => new Date(AT.getTime() + ms);
    expect(WHOLE_KEY_RETRY_AFTER_MS).toBe(7 * 86_400_000);
    expect(wholeKeyRetryDue(plan, after(WHOLE_KEY_RETRY_AFTER_MS - 1))).toBe(false);
    expect(wholeKeyRetryDue(plan, after(WHOLE_KEY_RETRY_AFTER_MS))).toBe(true);
    // A plan stored without the time it switched: tried now.
    expect(wholeKeyRetryDue(groupsPlan(moduleGroups(), { switchedAt: undefined }), AT)).toBe(true);
    // A school on the whole key has nothing to try again.
    expect(wholeKeyRetryDue(WHOLE_KEY_PLAN, after(WHOLE_KEY_RETRY_AFTER_MS))).toBe(false);
  });

  it('fetched whole again, the plan is the whole key with the Contacts name it learnt; still failing, the groups it had, with the time moved on', () => {
    const learnt = groupsPlan(
      [['currentStaff', 'yearGroups'], ['contacts', 'currentPupils'], ['teachingSetLists']],
      { contactsMethod: 'Pupil_GetContacts' },
    );
    expect(backToWholeKey(learnt)).toEqual({
      mode: 'whole',
      groups: [],
      contactsMethod: 'Pupil_GetContacts',
    });
    expect(backToWholeKey(groupsPlan(moduleGroups()))).toEqual(WHOLE_KEY_PLAN);
    const later = new Date(AT.getTime() + WHOLE_KEY_RETRY_AFTER_MS);
    const again = stillInGroups(learnt, 'ISAMS_SERVER_BUSY', later);
    expect(again).toEqual({ ...learnt, switchedBecause: 'ISAMS_SERVER_BUSY', switchedAt: later });
    expect(wholeKeyRetryDue(again, later)).toBe(false);
    // Its groups are its own copy.
    again.groups[0]!.push('academicHouses');
    expect(learnt.groups[0]).toEqual(['currentStaff', 'yearGroups']);
  });
});

describe('how to split', () => {
  it('halves a group, the first half taking the odd one; one dataset cannot be split', () => {
    expect(splitGroup(['a', 'b', 'c'] as unknown as DatasetId[])).toEqual([['a', 'b'], ['c']]);
    expect(splitGroup(['teachingSets', 'teachingSetLists'])).toEqual([
      ['teachingSets'],
      ['teachingSetLists'],
    ]);
    expect(splitGroup(['teachingSetLists'])).toBeUndefined();
  });

  it('splits a group that alone still times out, down to one method per request, and remembers the split', () => {
    const planner = new MethodGroupPlanner(switchToGroups(WHOLE_KEY_PLAN, 'ISAMS_TIMEOUT', AT), CANDIDATES);
    const slow = new Set<DatasetId>(['teachingSetLists', 'teachingSets']);
    const { requests, failure } = drive(planner, (r) =>
      r.datasets.length > 1 && r.datasets.some((d) => slow.has(d))
        ? { kind: 'failed', code: 'ISAMS_TIMEOUT' }
        : allPresent(r),
    );
    expect(failure).toBeUndefined();
    expect(requests.map((r) => r.datasets)).toEqual([
      MODULE_GROUPS[0],
      MODULE_GROUPS[1],
      MODULE_GROUPS[2],
      ['departmentsAndSubjects', 'teachingForms'],
      ['teachingSets', 'teachingSetLists'],
      ['teachingSets'],
      ['teachingSetLists'],
    ]);
    expect(names(requests[6]!)).toEqual(['Teaching_GetTeachingSetLists']);
    expect(planner.plan().groups).toEqual([
      MODULE_GROUPS[0],
      MODULE_GROUPS[1],
      ['departmentsAndSubjects', 'teachingForms'],
      ['teachingSets'],
      ['teachingSetLists'],
    ]);
    expect(planner.groups().map((g) => [g.status, g.requests])).toEqual([
      ['done', 1],
      ['done', 1],
      ['done', 1],
      ['done', 1],
      ['done', 1],
    ]);
    expect(planner.result()).toEqual({
      present: [...DATASET_IDS],
      absent: [],
      findings: [],
    });
  });

  it('fails the run naming the one dataset that still fails on its own', () => {
    const planner = new MethodGroupPlanner(
      groupsPlan([['teachingSetLists'], ...MODULE_GROUPS.slice(0, 2).map((g) => [...g])]),
      CANDIDATES,
    );
    const { requests, failure } = drive(planner, (r) =>
      r.datasets.includes('teachingSetLists') ? { kind: 'failed', code: 'ISAMS_TIMEOUT' } : allPresent(r),
    );
    expect(failure).toEqual(['teachingSetLists']);
    // Nothing after the failing group is requested: a failed run publishes nothing anyway.
    expect(requests).toHaveLength(1);
    expect(planner.groups()[0]).toMatchObject({
      datasets: ['teachingSetLists'],
      status: 'failed',
      requests: 1,
    });
  });

  it('does not split for failures a smaller request cannot avoid', () => {
    const planner = new MethodGroupPlanner(switchToGroups(WHOLE_KEY_PLAN, 'ISAMS_TIMEOUT', AT), CANDIDATES);
    const { requests, failure } = drive(planner, () => ({ kind: 'failed', code: 'ISAMS_IP_NOT_ALLOWED' }));
    expect(requests).toHaveLength(1);
    expect(failure).toEqual(MODULE_GROUPS[0]);
  });

  it('does not split a group whose request could not even connect', () => {
    const planner = new MethodGroupPlanner(switchToGroups(WHOLE_KEY_PLAN, 'ISAMS_TIMEOUT', AT), CANDIDATES);
    const { requests, failure } = drive(planner, () => ({
      kind: 'failed',
      code: 'ISAMS_TIMEOUT',
      networkCode: 'UND_ERR_CONNECT_TIMEOUT',
    }));
    expect(requests).toHaveLength(1);
    expect(failure).toEqual(MODULE_GROUPS[0]);
    // The plan learnt nothing from it: the module groups stay as they were.
    expect(planner.plan().groups).toEqual(moduleGroups());
  });
});

describe('methods not allocated to the key (403)', () => {
  it('a dataset the key lacks is absent for this run, like in a whole-key fetch, but stays in the plan', () => {
    const planner = modulePlanner({ contactsMethod: 'Pupil_GetContactsFiltered' });
    const { requests, failure } = drive(planner, (r) =>
      names(r).includes('Pupil_GetCustomPupilGroups')
        ? { kind: 'not-allocated', echoed: ['pupil_getcustompupilgroups'] }
        : allPresent(r),
    );
    expect(failure).toBeUndefined();
    expect(requests.map((r) => r.datasets)).toEqual([
      MODULE_GROUPS[0],
      MODULE_GROUPS[1],
      ['contacts', 'currentPupils', 'customGroupMembership'],
      MODULE_GROUPS[2],
    ]);
    expect(planner.result().absent).toEqual(['customGroups']);
    expect(planner.result().findings).toEqual([]);
    expect(planner.plan().groups).toEqual(moduleGroups());
    expect(planner.groups()[1]).toMatchObject({ status: 'done', requests: 2 });
  });

  it('a 403 that names nothing we asked for fails the run (no progress possible)', () => {
    const planner = modulePlanner();
    const { failure } = drive(planner, () => ({ kind: 'not-allocated', echoed: ['pupil_getapplicant'] }));
    expect(failure).toEqual(MODULE_GROUPS[0]);
  });
});

describe('the Contacts (Filtered) method name ([U] in the reference)', () => {
  it('asks with every candidate, learns from the 403 which were refused, and remembers the one that works', () => {
    const planner = new MethodGroupPlanner(groupsPlan(moduleGroups()), [
      'Pupil_GetContacts',
      'Pupil_GetContactsFiltered',
      'Pupil_GetStudentContacts',
    ]);
    const { requests } = drive(planner, (r) => {
      const refused = names(r).filter((n) => n === 'Pupil_GetContacts' || n === 'Pupil_GetStudentContacts');
      return refused.length > 0
        ? { kind: 'not-allocated', echoed: refused.map((n) => n.toLowerCase()) }
        : allPresent(r);
    });
    expect(names(requests[1]!)).toEqual([
      'Pupil_GetContacts',
      'Pupil_GetContactsFiltered',
      'Pupil_GetStudentContacts',
      'Pupil_GetCurrentPupils',
      'Pupil_GetCustomPupilGroupMembership',
      'Pupil_GetCustomPupilGroups',
    ]);
    expect(names(requests[2]!)[0]).toBe('Pupil_GetContactsFiltered');
    expect(requests[2]!.methods.filter((m) => m.dataset === 'contacts')).toHaveLength(1);
    expect(planner.plan().contactsMethod).toBe('Pupil_GetContactsFiltered');
    expect(planner.result().present).toContain('contacts');

    // The next run sends the remembered name only.
    const next = new MethodGroupPlanner(planner.plan(), ['Pupil_GetContacts', 'Pupil_GetContactsFiltered']);
    const first = next.next()!;
    next.record(first, allPresent(first));
    const pupils = next.next()!;
    expect(pupils.methods.filter((m) => m.dataset === 'contacts').map((m) => m.name)).toEqual([
      'Pupil_GetContactsFiltered',
    ]);
  });

  it('when no candidate works, contacts are absent (never empty) and the run says so in plain words', () => {
    const planner = modulePlanner();
    drive(planner, (r) => {
      const contacts = r.methods.filter((m) => m.dataset === 'contacts').map((m) => m.name.toLowerCase());
      return contacts.length > 0 ? { kind: 'not-allocated', echoed: contacts } : allPresent(r);
    });
    const result = planner.result();
    expect(result.absent).toEqual(['contacts']);
    expect(result.present).not.toContain('contacts');
    expect(result.findings).toEqual([
      {
        code: 'CONNECTOR_CONTACTS_METHOD_UNKNOWN',
        datasetId: 'contacts',
        message: expect.stringMatching(
          /Pupil_GetContactsFiltered, Pupil_GetContacts[\s\S]*nothing was removed|nothing was removed[\s\S]*Pupil_GetContactsFiltered, Pupil_GetContacts/,
        ) as string,
      },
    ]);
    expect(planner.plan().contactsMethod).toBeUndefined();
  });

  it('a remembered name that is refused later is forgotten and the other candidates are tried', () => {
    const planner = new MethodGroupPlanner(
      groupsPlan([['contacts']], { contactsMethod: 'Pupil_GetContacts' }),
      CANDIDATES,
    );
    const { requests } = drive(planner, (r) =>
      names(r).includes('Pupil_GetContacts')
        ? { kind: 'not-allocated', echoed: ['pupil_getcontacts'] }
        : allPresent(r),
    );
    expect(requests.map(names).slice(0, 2)).toEqual([['Pupil_GetContacts'], ['Pupil_GetContactsFiltered']]);
    expect(planner.plan().contactsMethod).toBe('Pupil_GetContactsFiltered');
  });
});

describe('a Contacts name that iSAMS accepts but that returns no Contacts container', () => {
  it('counts as refused: the next candidate is asked alone, in a group of its own', () => {
    const planner = modulePlanner({ contactsMethod: 'Pupil_GetContacts' });
    const { requests } = drive(planner, (r) => ({
      kind: 'fetched',
      present: r.datasets.filter((d) => d !== 'contacts' || names(r).includes('Pupil_GetContactsFiltered')),
    }));
    expect(requests.map((r) => r.datasets)).toEqual([
      MODULE_GROUPS[0],
      MODULE_GROUPS[1],
      ['contacts'],
      MODULE_GROUPS[2],
    ]);
    expect(names(requests[2]!)).toEqual(['Pupil_GetContactsFiltered']);
    expect(planner.result().present).toContain('contacts');
    expect(planner.plan()).toMatchObject({ contactsMethod: 'Pupil_GetContactsFiltered' });
    expect(planner.plan().groups.flat().sort()).toEqual([...DATASET_IDS].sort());
  });

  it('with no candidate left, contacts are absent with the finding', () => {
    const planner = new MethodGroupPlanner(groupsPlan([[...MODULE_GROUPS[1]!]]), CANDIDATES);
    drive(planner, (r) => ({ kind: 'fetched', present: r.datasets.filter((d) => d !== 'contacts') }));
    expect(planner.result().absent).toEqual(['contacts']);
    expect(planner.result().findings.map((f) => f.code)).toEqual(['CONNECTOR_CONTACTS_METHOD_UNKNOWN']);
  });
});

describe('how to assemble', () => {
  it('one snapshot: each dataset from exactly one group of this run; absent = not returned', () => {
    const planner = modulePlanner({ contactsMethod: 'Pupil_GetContactsFiltered' });
    drive(planner, (r) => ({
      kind: 'fetched',
      present: r.datasets.filter((d) => d !== 'boardingHouses'),
    }));
    const result = planner.result();
    expect(result.absent).toEqual(['boardingHouses']);
    expect([...result.present, ...result.absent].sort()).toEqual([...DATASET_IDS].sort());
    expect(planner.groups().every((g) => g.status === 'done')).toBe(true);
  });

  it('reports progress: groups done of groups total', () => {
    const planner = modulePlanner();
    const first = planner.next()!;
    expect(planner.progress()).toEqual({ groupsDone: 0, groupsTotal: 3 });
    planner.record(first, allPresent(first));
    expect(planner.progress()).toEqual({ groupsDone: 1, groupsTotal: 3 });
  });
});
