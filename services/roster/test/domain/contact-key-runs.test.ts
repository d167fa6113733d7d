import { describe, expect, it } from 'vitest';
import type { RawElement } from '@isams-sync/isams';
import { contact } from '../support/raw';
import { storedRoster } from '../support/stored-roster';
import { newWorld, play } from '../support/crash-world';
import { MemoryRosterStore } from '../support/memory-roster';
import { contactRuns, feedStep, withContacts } from '../support/contact-runs';
import type { School } from '../support/contact-runs';

// A contact's key over several runs while iSAMS sends a parent's PersonId in some records and runs and
// not in others (session 52's second review: each case failed on the code before it).

/** Every run after the first against what the runs before stored: per run, its changes and whether contact removals were suspended. */
const runs = contactRuns;

// Anna: first person of joint record 500 (with Bob, 5002) and sole contact of record 700 (another child).
const anna500 = (pid: string | undefined) => contact('500', pid, true, [['100', 'Current']], 'Anna');
const bob500 = (pid: string | undefined) => contact('500', pid, false, [['100', 'Current']], 'Bob');
const anna700 = (pid: string | undefined) => contact('700', pid, true, [['102', 'Current']], 'Anna');

const dave800 = contact('800', '8001', true, [['101', 'Current']], 'Dave');

describe('contact keys over several runs: a parent in two contact records', () => {
  it('A2: after PersonIds appear for a parent in two records, a parent who really left is removed', () => {
    const before = withContacts([anna500(undefined), bob500(undefined), anna700(undefined), dave800]);
    const after = withContacts([anna500('5001'), bob500('5002'), anna700('5001'), dave800]);
    const daveGone = withContacts([anna500('5001'), bob500('5002'), anna700('5001')]);
    const r = runs(before, after, after, daveGone);
    expect(r[2]!.changes).toContain('removed:8001');
  });

  it('A: PersonId appears for every contact at once (schema drift) — removals are not suspended run after run', () => {
    const before = withContacts([anna500(undefined), bob500(undefined), anna700(undefined)]);
    const after = withContacts([anna500('5001'), bob500('5002'), anna700('5001')]);
    const r = runs(before, after, after, after);
    // No contact removed in any run ...
    expect(r.flatMap((x) => x.changes).filter((c) => c.startsWith('removed:'))).toEqual([]);
    // ... and the school is not left with contact removals suspended for ever (run 4 is the third identical run).
    expect(r.map((x) => x.suspended)).toEqual([false, false, false]);
  });

  it('D: PersonId appears in one record, the next run in the other — the parent’s second contact is not removed', () => {
    const r = runs(
      withContacts([anna500(undefined), bob500('5002'), anna700(undefined)]),
      withContacts([anna500('5001'), bob500('5002'), anna700(undefined)]),
      withContacts([anna500('5001'), bob500('5002'), anna700('5001')]),
    );
    expect(r[1]!.changes.filter((c) => c.startsWith('removed:'))).toEqual([]);
  });

  it('C: a kept contact’s PersonId missing in its own record but sent in another — no duplicate, and no removal later', () => {
    const r = runs(
      withContacts([anna500(undefined), bob500('5002')]),
      withContacts([anna500('5001'), bob500('5002'), anna700('5001')]),
      withContacts([anna500(undefined), bob500('5002'), anna700('5001')]),
      withContacts([anna500('5001'), bob500('5002'), anna700('5001')]),
    );
    expect(r[1]!.changes.filter((c) => c.startsWith('added:'))).toEqual([]);
  });

  it('C2: (same runs) the run after, the kept contact c500-1 is not removed while Anna is still sent', () => {
    const r = runs(
      withContacts([anna500(undefined), bob500('5002')]),
      withContacts([anna500('5001'), bob500('5002'), anna700('5001')]),
      withContacts([anna500(undefined), bob500('5002'), anna700('5001')]),
      withContacts([anna500('5001'), bob500('5002'), anna700('5001')]),
    );
    expect(r[2]!.changes.filter((c) => c.startsWith('removed:'))).toEqual([]);
  });

  it('fine: joint record, one parent in two records, PersonIds stable — nothing changes, no suspension', () => {
    const s = withContacts([anna500('5001'), bob500('5002'), anna700('5001')]);
    const r = runs(s, s, s);
    expect(r).toEqual([
      { changes: [], retained: [], suspended: false, keys: ['5001', '5002'] },
      { changes: [], retained: [], suspended: false, keys: ['5001', '5002'] },
    ]);
  });

  it('fine: kept contact whose PersonId disappears again everywhere — kept, no removal', () => {
    const r = runs(
      withContacts([anna500(undefined), bob500('5002')]),
      withContacts([anna500('5001'), bob500('5002')]),
      withContacts([anna500(undefined), bob500('5002')]),
      withContacts([anna500('5001'), bob500('5002')]),
    );
    expect(r.map((x) => x.changes)).toEqual([['updated:c500-1'], ['updated:c500-1'], ['updated:c500-1']]);
    expect(r.some((x) => x.suspended)).toBe(false);
  });
});

describe('contact keys over several runs, through the changeset processor', () => {
  const T = 'school-1';
  const step = (syncRunId: string, datasets: School) => feedStep(T, syncRunId, datasets);
  async function statusAfter(schools: School[]) {
    const world = newWorld();
    let i = 0;
    for (const school of schools)
      await play(world, [step(`run-${++i}`, school)], undefined, { memory: false });
    return (await storedRoster(new MemoryRosterStore(world.state), T))
      .filter((e) => e.t === 'contact')
      .map((e) => `${e.id}:${e.status}`);
  }

  it('a parent split over two contacts whose rows now read as one: the other stays active (the stored image read on demand)', async () => {
    const s = await statusAfter([
      withContacts([anna500(undefined), bob500('5002'), anna700('5001')]),
      withContacts([anna500('5001'), bob500('5002'), anna700('5001')]),
    ]);
    expect(s).toEqual(['5001:active', '5002:active', 'c500-1:active']);
  });

  it('the second person of a joint record who is no longer sent is removed, the retained rule notwithstanding', () => {
    const r = runs(withContacts([anna500(undefined), bob500(undefined)]), withContacts([anna500(undefined)]));
    expect(r[0]!.changes).toEqual(['removed:c500-2']);
  });

  it('the first person of a joint record leaves and the second moves up: the leaver is removed (no throw on demand)', async () => {
    const s = await statusAfter([
      withContacts([anna500(undefined), bob500('5002')]),
      withContacts([contact('500', '5002', true, [['100', 'Current']], 'Bob')]),
      withContacts([contact('500', '5002', true, [['100', 'Current']], 'Bob')]),
    ]);
    expect(s).toContain('c500-1:removed');
  });

  it('control: Anna in one record only — Dave who left is removed', async () => {
    const s = await statusAfter([
      withContacts([anna500(undefined), bob500(undefined), dave800]),
      withContacts([anna500('5001'), bob500('5002'), dave800]),
      withContacts([anna500('5001'), bob500('5002')]),
    ]);
    expect(s).toContain('8001:removed');
  });

  it('A3: Anna in two records when PersonIds appear — Dave who left is still removed', async () => {
    const s = await statusAfter([
      withContacts([anna500(undefined), bob500(undefined), anna700(undefined), dave800]),
      withContacts([anna500('5001'), bob500('5002'), anna700('5001'), dave800]),
      withContacts([anna500('5001'), bob500('5002'), anna700('5001'), dave800]),
      withContacts([anna500('5001'), bob500('5002'), anna700('5001')]),
    ]);
    expect(s).toContain('8001:removed');
  });
});

const removals = (r: { changes: string[] }) => r.changes.filter((c) => c.startsWith('removed:'));
const eve800 = (pid: string | undefined) => contact('800', pid, true, [['101', 'Current']], 'Eve');
const anna800 = (pid: string | undefined) => contact('800', pid, false, [['101', 'Current']], 'Anna');

describe('contact keys over several runs: a parent split over two contacts is not removed while sent (third review)', () => {
  it('PersonId sent for a parent in one record but not the other, then in both — her contact for the other record is not removed', () => {
    const r = runs(
      withContacts([anna500(undefined), bob500('5002'), anna700('5001')]),
      withContacts([anna500('5001'), bob500('5002'), anna700('5001')]),
    );
    expect(removals(r[0]!)).toEqual([]);
  });

  it('a parent kept as c500-1 and c700-1 (PersonIds appeared) gets a new record for a new child — her contacts are not removed the run after', () => {
    const all = (pid: boolean) => [
      anna500(pid ? '5001' : undefined),
      bob500(pid ? '5002' : undefined),
      anna700(pid ? '5001' : undefined),
    ];
    const withNew = withContacts([...all(true), eve800('5005'), anna800('5001')]);
    const r = runs(withContacts(all(false)), withContacts(all(true)), withNew, withNew);
    expect(r.flatMap(removals)).toEqual([]);
  });

  it('PersonIds appear for everyone in the run that links a parent in two records to a new record — none of her contacts removed the run after', () => {
    const withNew = withContacts([
      anna500('5001'),
      bob500('5002'),
      anna700('5001'),
      eve800('5005'),
      anna800('5001'),
    ]);
    const r = runs(
      withContacts([anna500(undefined), bob500(undefined), anna700(undefined)]),
      withNew,
      withNew,
    );
    expect(r.flatMap(removals)).toEqual([]);
  });

  it('a parent in two records whose PersonId drops out of one record and comes back — the contact made meanwhile is not removed', () => {
    const both = withContacts([anna500('5001'), bob500('5002'), anna700('5001')]);
    const r = runs(both, withContacts([anna500(undefined), bob500('5002'), anna700('5001')]), both);
    expect(r.flatMap(removals)).toEqual([]);
  });
});

/** A contact row without IsFirstPersonContact. */
const noFlag = (row: RawElement): RawElement => {
  const { IsFirstPersonContact: _, ...attributes } = row.attributes;
  return { ...row, attributes };
};
const bobAt500 = (pid: string | undefined, first = false) =>
  contact('500', pid, first, [['100', 'Current']], 'Bob');
const zoe700 = contact('700', undefined, true, [['102', 'Current']], 'Zoe');
const everyRemoval = (r: { changes: string[] }[]) =>
  r.flatMap((x) => x.changes).filter((c) => c.startsWith('removed:'));

describe('contact keys over several runs: a person who really left a record is removed, not retained (fourth review)', () => {
  it('first person (no PersonId) of a joint record leaves, the second (PersonId) becomes first — the leaver is removed', () => {
    const after = withContacts([bobAt500('5002', true)]);
    const r = runs(withContacts([anna500(undefined), bobAt500('5002')]), after, after, after);
    expect(everyRemoval(r), JSON.stringify(r)).toContain('removed:c500-1');
  });

  it('first person (no PersonId) of a record replaced by a parent already stored under her PersonId — the leaver is removed', () => {
    const after = withContacts([anna500('5001'), anna700('5001')]);
    const r = runs(withContacts([anna500('5001'), zoe700]), after, after, after);
    expect(everyRemoval(r), JSON.stringify(r)).toContain('removed:c700-1');
  });

  it('a school that sends no IsFirstPersonContact — the joint record’s person without PersonId leaves, and is removed', () => {
    const after = withContacts([noFlag(bobAt500('5002'))]);
    const r = runs(withContacts([noFlag(anna500(undefined)), noFlag(bobAt500('5002'))]), after, after);
    expect(everyRemoval(r), JSON.stringify(r)).toContain('removed:c500-1');
  });

  it('the second person (stored with the flag) leaves and the first is sent without the flag — the leaver is removed', () => {
    const after = withContacts([noFlag(anna500(undefined))]);
    const r = runs(withContacts([anna500(undefined), bobAt500(undefined)]), after, after);
    expect(everyRemoval(r), JSON.stringify(r)).toContain('removed:c500-2');
  });

  it('control: the intended case, then the parent’s second record goes — the retained contact is removed', () => {
    const r = runs(
      withContacts([anna500('5001'), contact('700', undefined, true, [['102', 'Current']], 'Anna')]),
      withContacts([anna500('5001'), anna700('5001')]),
      withContacts([anna500('5001')]),
    );
    expect(r[0]!.retained).toEqual(['c700-1']);
    expect(r[1]!.changes).toContain('removed:c700-1');
  });

  it('control: joint record with PersonIds, second person (kept as c500-2) leaves — removed', () => {
    const r = runs(
      withContacts([anna500(undefined), bobAt500(undefined)]),
      withContacts([anna500('5001'), bobAt500('5002')]),
      withContacts([anna500('5001')]),
    );
    expect(r[1]!.changes).toContain('removed:c500-2');
  });
});
