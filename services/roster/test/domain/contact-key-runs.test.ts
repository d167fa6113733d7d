import { describe, expect, it } from 'vitest';
import { diff } from '../../src/domain/diff';
import type { StoredByType } from '../../src/domain/diff';
import { normalise } from '../../src/domain/normalise';
import { contact } from '../support/raw';
import { storedOf, storedRoster } from '../support/stored-roster';
import { newWorld, play } from '../support/crash-world';
import { MemoryRosterStore } from '../support/memory-roster';
import { fallbackOf, feedStep, withContacts } from '../support/contact-runs';
import type { School } from '../support/contact-runs';

// A contact's key over several runs while iSAMS sends a parent's PersonId in some records and runs and
// not in others (session 52's second review: each case failed on the code before it).
const asOf = new Date('2026-01-10T00:00:00Z');

/** Every run after the first against what the runs before stored: per run, its changes and whether contact removals were suspended. */
function runs(...schools: School[]) {
  let stored = storedOf(normalise({ datasets: schools[0]!, asOf }).entities);
  const out: { changes: string[]; suspended: boolean; keys: string[] }[] = [];
  for (const school of schools.slice(1)) {
    const n = normalise({ datasets: school, asOf, fallback: fallbackOf(stored) });
    const changes = diff(stored, n.entities, n.presentTypes, n);
    out.push({
      changes: changes.filter((c) => c.entityType === 'contact').map((c) => `${c.change}:${c.entityId}`),
      suspended: n.suspendedTypes.has('contact'),
      keys: [...n.entities.contact.keys()].sort(),
    });
    // As the processor applies it: what is not read and not removed (removals suspended) stays stored.
    const removed = new Set(
      changes.filter((c) => c.change === 'removed').map((c) => `${c.entityType}/${c.entityId}`),
    );
    const next = storedOf(n.entities);
    for (const [type, m] of Object.entries(stored) as [
      keyof StoredByType,
      NonNullable<StoredByType[keyof StoredByType]>,
    ][])
      for (const [id, e] of m)
        if (!next[type]?.has(id) && !removed.has(`${type}/${id}`)) (next[type] ??= new Map()).set(id, e);
    stored = next;
  }
  return out;
}

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
      { changes: [], suspended: false, keys: ['5001', '5002'] },
      { changes: [], suspended: false, keys: ['5001', '5002'] },
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
