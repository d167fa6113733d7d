import { describe, expect, it } from 'vitest';
import type { RosterEntityType } from '@isams-sync/events';
import type { RawElement } from '@isams-sync/isams';
import { diff } from '../../src/domain/diff';
import type { StoredByType } from '../../src/domain/diff';
import { normalise } from '../../src/domain/normalise';
import type { RawSnapshot } from '../../src/domain/normalise';
import type { RosterEntity } from '../../src/domain/roster-model';
import { contact } from '../support/raw';
import { storedOf, storedRoster } from '../support/stored-roster';
import { newWorld, play } from '../support/crash-world';
import { MemoryRosterStore } from '../support/memory-roster';
import { fallbackOf, feedStep, withContacts } from '../support/contact-runs';
import type { School } from '../support/contact-runs';

/**
 * A contact is keyed by its `PersonId`, else by its record and position (`c<ContactId>-<1|2>`). The
 * Batch API leaves a NULL `PersonId` out and iSAMS's schema drifts, so one contact row can come with
 * `PersonId` in one run and without it in the next (or the other way round). The same row (record
 * id, first/second person) keeps the key the stored roster has it under: nothing is removed, nothing
 * added, the person is updated in place — and where the stored roster cannot tell which stored
 * person a row is, no contact is removed in that run.
 */

const asOf = new Date('2026-01-10T00:00:00Z');

/** Normalises `next` against the stored result of `first` and diffs them, as the processor does. */
function run(first: School, next: School, fallback = fallbackOf) {
  const stored = storedOf(normalise({ datasets: first, asOf }).entities);
  const n = normalise({ datasets: next, asOf, fallback: fallback(stored) });
  const changes = diff(stored, n.entities, n.presentTypes, n);
  return {
    n,
    changes: changes.map(
      (c) =>
        `${c.entityType}:${c.change}:${c.entityId}${c.changedFields ? ` ${c.changedFields.join(',')}` : ''}`,
    ),
    findings: n.findings
      .filter((f) => f.datasetId === 'contacts')
      .map((f) => `${f.code}:${f.severity}:${f.recordId ?? ''}`),
  };
}

const family500 = (first: string | undefined, second: string | undefined): RawElement[] => [
  contact(
    '500',
    first,
    true,
    [
      ['100', 'Current'],
      ['101', 'Current'],
    ],
    'C5001',
  ),
  contact(
    '500',
    second,
    false,
    [
      ['100', 'Current'],
      ['101', 'Current'],
    ],
    'C5002',
  ),
];
const record501 = (personId: string | undefined, forename = 'C5003'): RawElement =>
  contact('501', personId, true, [['102', 'Current']], forename);

describe('a contact keeps its key when iSAMS starts or stops sending its PersonId', () => {
  it('PersonId dropped for the first person of a joint record: kept as 5001, updated, nothing removed', () => {
    const r = run(
      withContacts([...family500('5001', '5002'), record501('5003')]),
      withContacts([...family500(undefined, '5002'), record501('5003')]),
    );
    expect(r.changes).toEqual(['contact:updated:5001 personId']);
    expect(r.n.entities.contact.get('5001')).toMatchObject({
      contactIds: ['500'],
      isFirstPersonContact: true,
    });
    expect(r.n.entities.contact.has('c500-1')).toBe(false);
    expect(r.findings).toEqual(['ROSTER_CONTACT_KEY_KEPT:info:500']);
    expect(r.n.suspendedTypes.size).toBe(0);
  });

  it('PersonId dropped for the second person of a joint record: kept as 5002', () => {
    const r = run(
      withContacts([...family500('5001', '5002'), record501('5003')]),
      withContacts([...family500('5001', undefined), record501('5003')]),
    );
    expect(r.changes).toEqual(['contact:updated:5002 personId']);
    expect(r.findings).toEqual(['ROSTER_CONTACT_KEY_KEPT:info:500']);
  });

  it('PersonId appearing for the first person of a joint record: kept as c500-1, updated, nothing added', () => {
    const r = run(
      withContacts([...family500(undefined, undefined), record501('5003')]),
      withContacts([...family500('5001', undefined), record501('5003')]),
    );
    expect(r.changes).toEqual(['contact:updated:c500-1 personId']);
    expect(r.n.entities.contact.get('c500-1')).toMatchObject({ personId: '5001', forename: 'C5001' });
    expect(r.findings).toEqual([
      'ROSTER_CONTACT_KEY_KEPT:info:500',
      'ROSTER_CONTACT_WITHOUT_PERSON_ID:info:500',
    ]);
  });

  it('PersonId appearing for the second person of a joint record: kept as c500-2', () => {
    const r = run(
      withContacts([...family500(undefined, undefined), record501('5003')]),
      withContacts([...family500(undefined, '5002'), record501('5003')]),
    );
    expect(r.changes).toEqual(['contact:updated:c500-2 personId']);
    expect(r.n.entities.contact.get('c500-2')).toMatchObject({ personId: '5002', forename: 'C5002' });
  });

  it('PersonId appearing for every contact at once: every key kept, no removal for the guard to hold', () => {
    const r = run(
      withContacts([...family500(undefined, undefined), record501(undefined)]),
      withContacts([...family500('5001', '5002'), record501('5003')]),
    );
    expect(r.changes).toEqual([
      'contact:updated:c500-1 personId',
      'contact:updated:c500-2 personId',
      'contact:updated:c501-1 personId',
    ]);
  });

  it('the stored person is updated in place with the row’s other changes', () => {
    const r = run(
      withContacts([...family500('5001', '5002'), record501('5003')]),
      withContacts([...family500('5001', '5002'), record501(undefined, 'Renamed')]),
    );
    expect(r.changes).toEqual(['contact:updated:5003 forename,personId']);
  });

  it('a stored key that another row of the run has keeps that row: the other is a new person', () => {
    // 5003 now comes from record 777; record 501's first person without PersonId is someone new.
    const r = run(
      withContacts([...family500('5001', '5002'), record501('5003')]),
      withContacts([
        ...family500('5001', '5002'),
        record501(undefined, 'New'),
        contact('777', '5003', true, [['102', 'Current']], 'C5003'),
      ]),
    );
    expect(r.changes).toEqual(['contact:added:c501-1', 'contact:updated:5003 contactIds,pupils']);
  });

  it('a new contact without PersonId, or with one, is added under its own key', () => {
    const r = run(
      withContacts([...family500('5001', '5002'), record501('5003')]),
      withContacts([
        ...family500('5001', '5002'),
        record501('5003'),
        contact('600', undefined, true, [['102', 'Current']], 'N1'),
        contact('601', '6001', true, [['102', 'Current']], 'N2'),
      ]),
    );
    expect(r.changes).toEqual(['contact:added:6001', 'contact:added:c600-1']);
    expect(r.findings).toEqual(['ROSTER_CONTACT_WITHOUT_PERSON_ID:info:600']);
  });

  it('a contact whose key is stored, or which is new with PersonId, reads no stored image', () => {
    // The processor's fallback knows ids only and loads images on demand: the usual run needs none.
    const idsOnly = (stored: StoredByType): RawSnapshot['fallback'] =>
      Object.fromEntries(
        Object.entries(stored).map(([type, m]) => [
          type,
          new IdsOnly(type as RosterEntityType, [...m.keys()]),
        ]),
      );
    const r = run(
      withContacts([...family500('5001', '5002'), record501('5003')]),
      withContacts([
        ...family500('5001', '5002'),
        record501('5003'),
        contact('601', '6001', true, [['102', 'Current']], 'N2'),
      ]),
      idsOnly,
    );
    expect(r.changes).toEqual(['contact:added:6001']);
  });

  it('without a stored roster the keys are as read', () => {
    const n = normalise({ datasets: withContacts([...family500(undefined, '5002')]), asOf });
    expect([...n.entities.contact.keys()].sort()).toEqual(['5002', 'c500-1']);
  });
});

describe('where the stored roster cannot tell which stored contact a row is, no contact is removed', () => {
  it('ambiguous: a stored person merged from two records loses its PersonId — no contact removed, none added', () => {
    // 5003 is the first person of 501 and the second of 502: the stored image has one flag for both.
    const both = (personId: string | undefined) => [
      record501(personId),
      contact('502', personId, false, [['100', 'Current']], 'C5003'),
    ];
    const r = run(
      withContacts([...family500('5001', '5002'), ...both('5003')]),
      withContacts([...family500('5001', '5002'), ...both(undefined)]),
    );
    expect(r.changes.filter((c) => c.includes(':removed:') || c.includes(':added:'))).toEqual([]);
    expect(r.n.suspendedTypes.has('contact')).toBe(true);
    expect(r.findings).toEqual([
      'ROSTER_CONTACT_KEY_AMBIGUOUS:warning:501',
      'ROSTER_CONTACT_KEY_AMBIGUOUS:warning:502',
      'ROSTER_REMOVALS_SUSPENDED:warning:',
    ]);
  });

  it('ambiguous: two stored persons claim the row’s record and position — neither is guessed', () => {
    // Run 1 sent record 501's first person twice, once without PersonId: c501-1 and 5003 both claim 501/1.
    const r = run(
      withContacts([...family500('5001', '5002'), record501('5003'), record501(undefined, 'Other')]),
      withContacts([...family500('5001', '5002'), record501('7000')]),
    );
    expect(r.changes.filter((c) => c.includes(':removed:') || c.includes(':added:'))).toEqual([]);
    expect(r.n.suspendedTypes.has('contact')).toBe(true);
    expect(r.findings).toContain('ROSTER_CONTACT_KEY_AMBIGUOUS:warning:501');
  });

  it('ambiguous: the row does not say whether it is the first or second person — not guessed', () => {
    const unflaggedWith = (personId: string): RawElement => {
      const c = contact('500', personId, true, [['100', 'Current']], 'C5001');
      const { IsFirstPersonContact: _, ...attributes } = c.attributes;
      return { ...c, attributes };
    };
    const r = run(
      withContacts([...family500(undefined, undefined), record501('5003')]),
      withContacts([unflaggedWith('5001'), family500(undefined, undefined)[1]!, record501('5003')]),
    );
    expect(r.changes.filter((c) => c.includes(':removed:') || c.includes(':added:'))).toEqual([]);
    expect(r.n.suspendedTypes.has('contact')).toBe(true);
    expect(r.findings).toContain('ROSTER_CONTACT_KEY_AMBIGUOUS:warning:500');
  });
});

/** A stored type known by ids only, as the processor's fallback is until it loads the images. */
class IdsOnly extends Map<string, RosterEntity> {
  constructor(
    readonly type: RosterEntityType,
    ids: string[],
  ) {
    super(ids.map((id) => [id, { id } as RosterEntity]));
  }
  override get(): RosterEntity | undefined {
    throw new Error(`stored ${this.type} images read`);
  }
  override values(): MapIterator<RosterEntity> {
    throw new Error(`stored ${this.type} images read`);
  }
  override entries(): MapIterator<[string, RosterEntity]> {
    throw new Error(`stored ${this.type} images read`);
  }
}

describe('through the changeset processor (stored images loaded on demand)', () => {
  const T = 'school-1';
  const step = (syncRunId: string, datasets: School) => feedStep(T, syncRunId, datasets);

  it.each([
    ['dropped', '5001', undefined, '5001'],
    ['appearing', undefined, '5001', 'c500-1'],
  ])(
    'PersonId %s between two runs: the contact stays active under its stored key',
    async (_, one, two, key) => {
      const world = newWorld();
      await play(
        world,
        [step('run-1', withContacts([...family500(one, '5002'), record501('5003')]))],
        undefined,
        {
          memory: false,
        },
      );
      await play(
        world,
        [step('run-2', withContacts([...family500(two, '5002'), record501('5003')]))],
        undefined,
        {
          memory: false,
        },
      );
      const contacts = (await storedRoster(new MemoryRosterStore(world.state), T)).filter(
        (e) => e.t === 'contact',
      );
      expect(contacts.map((e) => `${e.id}:${e.status}`)).toEqual(
        [`5002:active`, `5003:active`, `${key}:active`].sort(),
      );
      expect(contacts.find((e) => e.id === key)?.data).toMatchObject({
        forename: 'C5001',
        contactIds: ['500'],
      });
      expect((contacts.find((e) => e.id === key)?.data as { personId?: string }).personId).toBe(two);
    },
  );
});

describe('a contact key stays within the ids the services look up', () => {
  it('a contact without PersonId whose record id would make a key over 200 characters is left out, removals suspended', () => {
    const longId = '9'.repeat(199); // a whole-number id the reader accepts (≤ 200); c<id>-1 has 202
    const r = run(
      withContacts([...family500('5001', '5002'), record501('5003')]),
      withContacts([...family500('5001', '5002'), record501('5003'), contact(longId, undefined, true, [])]),
    );
    expect([...r.n.entities.contact.keys()].every((k) => k.length <= 200)).toBe(true);
    expect(r.n.entities.contact.has(`c${longId}-1`)).toBe(false);
    expect(r.findings).toContain(`ROSTER_CONTACT_KEY_TOO_LONG:warning:${longId.slice(0, 40)}`);
    expect(r.changes.filter((c) => c.includes(':removed:'))).toEqual([]);
    expect([...r.n.suspendedTypes]).toContain('contact');
  });
});

describe('a kept key is the person’s, for every row of their PersonId (review of session 52)', () => {
  const anna500 = (personId: string | undefined) =>
    contact('500', personId, true, [['100', 'Current']], 'Anna');
  const bob500 = contact('500', '5002', false, [['100', 'Current']], 'Bob');
  const anna700 = (personId = '5001') => contact('700', personId, true, [['102', 'Current']], 'Anna');
  /** Normalises each school in turn against what the runs before stored; the last run's result and changes. */
  function runs(...schools: School[]) {
    let stored = storedOf(normalise({ datasets: schools[0]!, asOf }).entities);
    let last: { n: ReturnType<typeof normalise>; changes: string[] } | undefined;
    for (const school of schools.slice(1)) {
      const n = normalise({ datasets: school, asOf, fallback: fallbackOf(stored) });
      last = {
        n,
        changes: diff(stored, n.entities, n.presentTypes, n).map((c) => `${c.change}:${c.entityId}`),
      };
      stored = storedOf(n.entities);
    }
    return last!;
  }
  const personId5001 = (n: ReturnType<typeof normalise>) =>
    [...n.entities.contact.values()].filter((c) => c.personId === '5001').map((c) => c.id);

  it('PersonId appears with a second record of the same person: one contact, under the kept key', () => {
    const r = runs(
      withContacts([anna500(undefined), bob500]),
      withContacts([anna500('5001'), bob500, anna700()]),
    );
    expect(personId5001(r.n)).toEqual(['c500-1']);
    expect(r.changes).toEqual(['updated:c500-1']);
  });

  it('the run after: the kept contact stays, one contact, nothing removed', () => {
    const same = withContacts([anna500('5001'), bob500, anna700()]);
    const r = runs(withContacts([anna500(undefined), bob500]), same, same);
    expect(personId5001(r.n)).toEqual(['c500-1']);
    expect(r.changes).toEqual([]);
  });

  it('the first record gone later, the person still sent through the second: still the kept key', () => {
    const r = runs(
      withContacts([anna500(undefined), bob500]),
      withContacts([anna500('5001'), bob500, anna700()]),
      withContacts([bob500, anna700()]),
    );
    expect(personId5001(r.n)).toEqual(['c500-1']);
    expect(r.changes.filter((c) => c.startsWith('removed:') || c.startsWith('added:'))).toEqual([]);
  });

  it('a kept key whose PersonId then changes to another value: the new value is a new person', () => {
    const r = runs(
      withContacts([anna500(undefined), bob500]),
      withContacts([anna500('5001'), bob500]),
      withContacts([anna500('6000'), bob500]),
    );
    expect(r.changes).toEqual(expect.arrayContaining(['added:6000', 'removed:c500-1']));
  });

  it('processor: three runs, Anna stays one active contact under c500-1', async () => {
    const T = 'school-1';
    const step = (syncRunId: string, datasets: School) => feedStep(T, syncRunId, datasets);
    const world = newWorld();
    for (const [id, school] of [
      ['run-1', withContacts([anna500(undefined), bob500])],
      ['run-2', withContacts([anna500('5001'), bob500, anna700()])],
      ['run-3', withContacts([anna500('5001'), bob500, anna700()])],
    ] as const)
      await play(world, [step(id, school)], undefined, { memory: false });
    const contacts = (await storedRoster(new MemoryRosterStore(world.state), T)).filter(
      (e) => e.t === 'contact',
    );
    expect(contacts.map((e) => `${e.id}:${e.status}`)).toEqual(['5002:active', 'c500-1:active']);
  });
});

describe('a retained contact is reported', () => {
  it('a parent split over two contacts whose rows now read as one: the other is retained with an info finding', () => {
    const anna = (record: string, personId: string | undefined) =>
      contact(record, personId, true, [['100', 'Current']], 'Anna');
    const r = run(
      withContacts([anna('500', undefined), anna('700', '5001')]),
      withContacts([anna('500', '5001'), anna('700', '5001')]),
    );
    expect([...(r.n.retained.contact ?? [])]).toEqual(['c500-1']);
    expect(r.changes.filter((c) => c.includes(':removed:'))).toEqual([]);
    expect(r.findings).toContain('ROSTER_CONTACT_RETAINED:info:');
  });
});
