import { describe, expect, it } from 'vitest';
import { useStartedRoster } from './support/started-roster';
import { platformPingV1 } from '@isams-sync/events';
import type { CloudEvent } from '@isams-sync/events';
import { uniqueName } from '@isams-sync/testing';
import {
  eventsFor,
  runFinished,
  storedRoster,
  publishedData as d,
  ofSchoolRun as of,
} from './support/harness';
import { namedSchool } from './support/named-school';
import { contact } from './support/raw';
import type { Datasets } from './support/school-feed';

const roster = useStartedRoster();

const fact = (e: CloudEvent) => `${d(e).entityType}.${d(e).change} ${d(e).entityId}`;

async function sync(tenantId: string, runId: string, datasets: Datasets) {
  await roster.publish(tenantId, runId, datasets);
  return runFinished(roster.app, tenantId, runId);
}

/**
 * Waits until everything published so far for `tenantId` on roster.changes.v1 was collected: a ping
 * with the tenant's key goes to the same partition after it, so once it is seen nothing before it
 * is still on its way. Returns the tenant's change events.
 */
async function changesSoFar(tenantId: string): Promise<CloudEvent[]> {
  const marker = uniqueName('sentinel');
  await roster.h.producer.publish(roster.h.topics.changes, [
    platformPingV1.create({ tenantId, idParts: [marker], data: { message: marker, sequence: 0 } }),
  ]);
  await eventsFor(
    roster.h.events.changes,
    (e) => (e.data as { message?: string }).message === marker,
    1,
    marker,
  );
  return roster.h.events.changes.filter((e) => e.tenantid === tenantId && e.type !== platformPingV1.type);
}

/**
 * A held whole run for a fresh school: A synced, then B's document (same ids, other people) arrives.
 * `decide` approves or discards its batch as `admin`.
 */
async function heldDifferentSchool() {
  const t = uniqueName('school');
  expect((await sync(t, 'a1', namedSchool('A'))).outcome).toBe('applied');
  const before = await storedRoster(roster.app.store, t);
  const published = (await changesSoFar(t)).length;
  // The other school: 50 pupils under our ids 1–50 and 20 of its own (71–90), other staff and contacts.
  const other = namedSchool('B', { pupils: [...range(1, 50), ...range(71, 90)] });
  const cs = await sync(t, 'b1', other);
  const decide = (method: 'approveHeldBatch' | 'discardHeldBatch', comment: string, admin: string) =>
    roster.rpc.call(method)({ batchId: 'held-b1', comment }, t, admin);
  return { t, before, published, cs, other, decide };
}
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('school identity: another school’s document under the same tenant', () => {
  it('is held whole: nothing applied, nothing published, the roster unchanged, the run held with the reason', async () => {
    const { t, before, published, cs } = await heldDifferentSchool();
    expect(cs).toMatchObject({
      state: 'done',
      outcome: 'held',
      heldBatchId: 'held-b1',
      applyCount: 0,
      holdKind: 'whole_run',
    });
    expect(cs.heldCount).toBe(cs.changeCount);
    expect(cs.holdReason).toBe(
      'This document looks like a different school: 50 of 50 known pupils now have a different name and date of birth; ' +
        '12 of 12 known staff now have a different name and identifiers. Nothing from it has been applied.',
    );
    expect(cs.counts?.pupil).toMatchObject({ added: 0, updated: 0, removed: 0, held: 80 });

    expect(await storedRoster(roster.app.store, t)).toEqual(before);
    const after = await changesSoFar(t);
    expect(after).toHaveLength(published);
    expect(after.filter(of(t, 'b1'))).toEqual([]);
    const runs = await eventsFor(roster.h.events.runs, of(t, 'b1'), 2, 'b1 reports');
    expect(runs.map((e) => `${d(e).sequence}:${d(e).status}`)).toEqual(['1:applying', '2:held']);
    expect(d(runs[1]!).heldBatchId).toBe('held-b1');
    // Nothing applied: the connector does not count this run for "data as of".
    expect(d(runs[1]!).holdKind).toBe('whole_run');

    const run = await roster.rpc.call('getRun')({ syncRunId: 'b1' }, t);
    expect(run).toMatchObject({ outcome: 'held', heldBatchId: 'held-b1', holdKind: 'whole_run' });
    expect(run.holdReason).toBe(cs.holdReason);
    const listed = await roster.rpc.call('listHeldBatches')({ status: 'pending' }, t);
    expect(listed.batches).toHaveLength(1);
    expect(listed.batches[0]).toMatchObject({
      batchId: 'held-b1',
      kind: 'whole_run',
      reason: cs.holdReason,
      total: cs.heldCount,
    });
    expect(listed.batches[0]!.types.find((x) => x.entityType === 'pupil')).toEqual({
      entityType: 'pupil',
      count: 80,
      reason: 'school_identity',
    });
    const pupils = await roster.rpc.call('getHeldBatch')(
      { batchId: 'held-b1', entityType: 'pupil', page: { pageSize: 200 } },
      t,
    );
    expect(
      pupils.records.reduce<Record<string, number>>(
        (n, r) => ({ ...n, [r.change]: (n[r.change] ?? 0) + 1 }),
        {},
      ),
    ).toEqual({ added: 20, updated: 50, removed: 10 });
    expect(pupils.records.every((r) => r.disposition === 'held')).toBe(true);
  }, 240_000);

  it('approval publishes the whole change set in the plan’s order, with the approval recorded', async () => {
    const { t, cs, other, decide } = await heldDifferentSchool();
    const approved = await decide('approveHeldBatch', 'we moved to a new iSAMS', 'admin:3');
    expect(approved).toMatchObject({ status: 'approved', decidedBy: 'admin:3', kind: 'whole_run' });
    await runFinished(roster.app, t, 'b1', 'approval');
    const events = (await changesSoFar(t)).filter(of(t, 'b1'));
    const plan = await roster.rpc.call('listRunChanges')({ syncRunId: 'b1', page: { pageSize: 500 } }, t);
    expect(plan.changes).toHaveLength(cs.changeCount!);
    expect(events.map(fact)).toEqual(plan.changes.map((c) => `${c.entityType}.${c.change} ${c.entityId}`));
    expect(new Set(events.map((e) => e.id)).size).toBe(events.length);
    const removals = events.filter((e) => d(e).change === 'removed');
    expect(removals.length).toBeGreaterThan(0);
    expect(
      removals.every(
        (e) =>
          d(e).removal?.reason === 'approved_held_batch' &&
          d(e).removal?.approvedBy === 'admin:3' &&
          d(e).removal?.heldBatchId === 'held-b1',
      ),
    ).toBe(true);
    const runs = await eventsFor(roster.h.events.runs, of(t, 'b1'), 3, 'b1 reports after approval');
    expect(runs.map((e) => `${d(e).sequence}:${d(e).status}`)).toEqual(['1:applying', '2:held', '3:applied']);
    expect(d(runs[2]!)).toMatchObject({ heldBatchId: 'held-b1', holdKind: 'whole_run' });

    // The roster is now the other school's, as a first sync of its document would have made it.
    const reference = uniqueName('school');
    expect((await sync(reference, 'ref', other)).outcome).toBe('applied');
    const active = async (tenant: string) =>
      (await storedRoster(roster.app.store, tenant))
        .filter((e) => e.status === 'active')
        .map((e) => [e.t, e.id, e.data]);
    expect(await active(t)).toEqual(await active(reference));
  }, 240_000);

  it('discard leaves the roster as it was; the same document is not held again, a changed one is', async () => {
    const { t, before, published, decide } = await heldDifferentSchool();
    const discarded = await decide('discardHeldBatch', 'wrong key', 'admin:4');
    expect(discarded).toMatchObject({ status: 'discarded', decidedBy: 'admin:4', kind: 'whole_run' });
    expect(await storedRoster(roster.app.store, t)).toEqual(before);
    // The same document again: the discard holds (nothing applied, no new batch).
    const again = await sync(t, 'b2', namedSchool('B', { pupils: [...range(1, 50), ...range(71, 90)] }));
    expect(again).toMatchObject({ outcome: 'applied', heldCount: 0, applyCount: 0 });
    expect(again.discardedCount).toBe(again.changeCount);
    expect(again.heldBatchId).toBeUndefined();
    // A document that differs (one more pupil of the other school): a new decision, held whole again.
    expect(
      await sync(t, 'b3', namedSchool('B', { pupils: [...range(1, 50), ...range(71, 91)] })),
    ).toMatchObject({
      outcome: 'held',
      holdKind: 'whole_run',
      heldBatchId: 'held-b3',
    });
    expect(await storedRoster(roster.app.store, t)).toEqual(before);
    expect(await changesSoFar(t)).toHaveLength(published);
  }, 240_000);
});

describe('term-time churn is never taken for another school', () => {
  it('a September intake (over a third of pupils new, leavers gone, names changed) is applied normally', async () => {
    const t = uniqueName('school');
    expect((await sync(t, 'july', namedSchool('A'))).outcome).toBe('applied');
    // 5 leavers (ids 1–5), 2 marriages, 30 joiners (ids 101–130): 30 of 85 pupils (35 %) are new.
    const september = namedSchool('A', { pupils: [...range(6, 60), ...range(101, 130)], renamed: [10, 11] });
    const cs = await sync(t, 'sept', september);
    expect(cs).toMatchObject({
      outcome: 'applied',
      heldCount: 0,
      counts: { pupil: { added: 30, removed: 5, updated: 2, held: 0 } },
    });
    expect(cs.holdKind).toBeUndefined();
    const events = (await changesSoFar(t)).filter(of(t, 'sept'));
    expect(
      events
        .filter((e) => d(e).entityType === 'pupil')
        .map((e) => d(e).change)
        .sort(),
    ).toEqual([...Array(30).fill('added'), ...Array(5).fill('removed'), ...Array(2).fill('updated')].sort());
  }, 240_000);

  it('with 15 % leavers only the leavers are held (the removal threshold); the intake applies', async () => {
    const t = uniqueName('school');
    expect((await sync(t, 'july', namedSchool('A'))).outcome).toBe('applied');
    const cs = await sync(t, 'sept', namedSchool('A', { pupils: [...range(10, 60), ...range(101, 130)] }));
    expect(cs).toMatchObject({
      outcome: 'held',
      holdKind: 'removals',
      heldTypes: { pupil: 'threshold' },
      counts: { pupil: { added: 30, removed: 0, held: 9 } },
    });
  }, 240_000);
});

describe('dependents of a held pupil', () => {
  it('contacts (and memberships, and a contact’s link) of held pupils are held with them and released with them', async () => {
    const t = uniqueName('school');
    // Leavers-to-be 1–10 have one contact and one set each; pupils 11–60 three contacts and three sets,
    // so the leavers' contacts and memberships alone stay under the threshold of their own types.
    const opts = {
      contactsOf: (p: number) => (p <= 10 ? 1 : 3),
      setsOf: (p: number) => (p <= 10 ? ['70'] : ['70', '71', '72']),
    };
    const shared = (pupils: [string, string][], telephone: string) => {
      const c = contact('9999', '7777', true, pupils, 'Shared');
      return {
        ...c,
        children: [...c.children, { name: 'Telephone', attributes: {}, text: telephone, children: [] }],
      };
    };
    const july = namedSchool('A', {
      ...opts,
      extraContacts: [
        shared(
          [
            ['1', 'Current'],
            ['11', 'Current'],
          ],
          '01',
        ),
      ],
    });
    expect((await sync(t, 'july', july)).outcome).toBe('applied');
    const published = (await changesSoFar(t)).length;

    // 10 of 60 pupils leave (held: over 10 % and over 5); their contacts and set lists go with them;
    // the shared contact drops pupil 1 and changes its telephone number.
    const leaving = namedSchool('A', {
      ...opts,
      pupils: range(11, 60),
      extraContacts: [shared([['11', 'Current']], '02')],
    });
    const cs = await sync(t, 'aug', leaving);
    expect(cs).toMatchObject({
      outcome: 'held',
      holdKind: 'removals',
      heldTypes: { pupil: 'threshold', contact: 'dependent', setMembership: 'dependent' },
    });
    expect(cs.holdReason).toContain('10 of 60 pupils would be removed (more than 10 % and more than 5)');
    const held = await roster.rpc.call('getHeldBatch')({ batchId: 'held-aug', page: { pageSize: 100 } }, t);
    const heldFacts = held.records.map((r) => `${r.entityType}.${r.change} ${r.entityId}`);
    expect(heldFacts.filter((f) => f.startsWith('contact.removed'))).toEqual(
      range(1, 10).map((p) => `contact.removed ${p}01`),
    );
    expect(heldFacts.filter((f) => f.startsWith('setMembership.removed'))).toHaveLength(10);
    expect(heldFacts).toContain('contact.updated 7777');

    // Nothing of the leavers went out; the shared contact's new telephone did, its link to pupil 1 kept.
    const applied = (await changesSoFar(t)).slice(published).filter(of(t, 'aug'));
    expect(applied.map(fact)).toEqual(['contact.updated 7777']);
    const sharedNow = await roster.rpc.call('getEntity')({ entityType: 'contact', entityId: '7777' }, t);
    expect(JSON.parse(sharedNow.dataJson)).toMatchObject({
      telephone: '02',
      pupils: [{ pupilId: '1' }, { pupilId: '11' }],
    });
    expect((await roster.rpc.call('getEntity')({ entityType: 'contact', entityId: '101' }, t)).status).toBe(
      'active',
    );

    await roster.rpc.call('approveHeldBatch')({ batchId: 'held-aug', comment: 'leavers' }, t, 'admin:5');
    await runFinished(roster.app, t, 'aug', 'approval');
    const released = (await changesSoFar(t)).slice(published).filter(of(t, 'aug')).map(fact);
    for (const p of range(1, 10)) {
      expect(released).toContain(`pupil.removed ${p}`);
      expect(released).toContain(`contact.removed ${p}01`);
    }
    expect(released.filter((f) => f.startsWith('setMembership.removed'))).toHaveLength(10);
    const sharedUpdates = (await changesSoFar(t)).filter(
      (e) => of(t, 'aug')(e) && fact(e) === 'contact.updated 7777',
    );
    expect(sharedUpdates).toHaveLength(2);
    expect(new Set(sharedUpdates.map((e) => e.id)).size).toBe(2);
    expect(
      JSON.parse(
        (await roster.rpc.call('getEntity')({ entityType: 'contact', entityId: '7777' }, t)).dataJson,
      ),
    ).toMatchObject({
      pupils: [{ pupilId: '11' }],
    });
    expect((await roster.rpc.call('getEntity')({ entityType: 'contact', entityId: '101' }, t)).status).toBe(
      'removed',
    );
  }, 240_000);
});
