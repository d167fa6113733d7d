import { describe, expect, it } from 'vitest';
import { rosterDirectoryChangeV1, rosterDirectoryStateV1 } from '@isams-sync/events';
import { fromKafkaMessage, readTopic, type TopicRecord } from '@isams-sync/kafka';
import { uniqueName } from '@isams-sync/testing';
import { runFinished } from './support/harness';
import { miniSchool } from './support/mini-school';
import { el } from './support/raw';
import { publishSnapshot } from './support/school-feed';
import { useStartedRoster } from './support/started-roster';

const roster = useStartedRoster();

/** miniSchool(4) where pupil 1 has an e-mail address (a field outside the directory projection). */
function withEmail(address: string) {
  const school = miniSchool(4);
  return {
    ...school,
    currentPupils: school.currentPupils!.map((p) =>
      p.attributes.Id === '1' ? { ...p, children: [...p.children, el('EmailAddress', {}, address)] } : p,
    ),
  };
}

const ofTenant = (t: string) => (r: TopicRecord) => r.key?.toString().startsWith(t) === true;

describe('least data: the directory projection topics', () => {
  it('carry names and ids only, validate against the directory contracts, and skip updates of other fields', async () => {
    const t = uniqueName('school');
    await publishSnapshot(roster.h.producer, roster.h.topics.raw, t, 'r1', withEmail('p1@example.org'));
    expect((await runFinished(roster.app, t, 'r1')).outcome).toBe('applied');
    const full = (await readTopic(roster.h.client, roster.h.topics.changes)).filter(ofTenant(t));
    const changes = (await readTopic(roster.h.client, roster.h.topics.changesDirectory))
      .filter(ofTenant(t))
      .map((r) => rosterDirectoryChangeV1.parse(fromKafkaMessage(r)));
    const states = (await readTopic(roster.h.client, roster.h.topics.stateDirectory))
      .filter((r) => r.key?.toString().startsWith(`${t}/`))
      .map((r) => rosterDirectoryStateV1.parse(fromKafkaMessage(r)));
    // Every entity type of the mini school is in the directory: one projected event per full event.
    expect(changes).toHaveLength(full.length);
    expect(states).toHaveLength(full.length);
    const p1 = changes.find((e) => e.subject === 'pupil/1')!;
    expect(p1.data.after).toEqual({
      id: '1',
      personId: '81',
      forename: 'P1',
      surname: 'Q1',
      fullName: 'P1 Q1',
      yearGroupId: '9',
    });
    expect(JSON.stringify(changes.map((e) => e.data))).not.toContain('p1@example.org');
    const fullP1 = full.map((r) => fromKafkaMessage(r)).find((e) => e.subject === 'pupil/1')!;
    expect((fullP1.data as { after: { email?: string } }).after.email).toBe('p1@example.org');
    // Same revision and change id as the full event.
    expect(p1.data.revision).toEqual((fullP1.data as { revision: unknown }).revision);

    // An update of the e-mail address only: a full `updated`, nothing on the directory topics.
    await publishSnapshot(roster.h.producer, roster.h.topics.raw, t, 'r2', withEmail('new@example.org'));
    const r2 = await runFinished(roster.app, t, 'r2');
    expect(r2.counts?.pupil).toMatchObject({ updated: 1 });
    const fullAfter = (await readTopic(roster.h.client, roster.h.topics.changes)).filter(ofTenant(t));
    expect(fullAfter.length).toBe(full.length + 1);
    const dirAfter = (await readTopic(roster.h.client, roster.h.topics.changesDirectory)).filter(ofTenant(t));
    expect(dirAfter.length).toBe(changes.length);
  });

  it('the directory contracts reject any field outside the projection', () => {
    const change = rosterDirectoryChangeV1.schema.safeParse({
      syncRunId: 'r',
      entityType: 'contact',
      entityId: '5',
      change: 'added',
      after: { id: '5', surname: 'S', address: { postcode: 'AB1 2CD' } },
    });
    expect(change.success).toBe(false);
    expect(change.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([
      ['after.address', 'not in the contact directory projection'],
    ]);
    const state = rosterDirectoryStateV1.schema.safeParse({
      entityType: 'pupil',
      entityId: '5',
      status: 'active',
      lastChangeId: 'r#0',
      data: { id: '5', dob: '2011-01-01' },
    });
    expect(state.error?.issues.map((i) => i.path.join('.'))).toEqual(['data.dob']);
  });
});
