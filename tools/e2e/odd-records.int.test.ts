import type { RawElement } from '@isams-sync/isams';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  bookParentsEvening,
  bookablePupils,
  listBookings,
  rosterSnapshot,
  School,
  waitForBookings,
  useWatchedSystem,
} from './support';

/**
 * Issue #14 item 1 through the real processes: iSAMS sends records with values the old strict
 * reader refused (`<TeachingStaff>Y</TeachingStaff>`, a `<Role>` without `Id`, impossible dates,
 * non-numeric ids, list items without ids). The simulator's admin API writes them into the served
 * document as-is. Nobody is removed because of them and no booking is cancelled.
 */
describe('e2e: records with odd values', () => {
  const e2e = useWatchedSystem({ holdPercent: 10, holdMin: 5 });
  let school: School;

  beforeAll(async () => {
    school = await School.create(e2e.system, 'e2e-odd-records', 23);
    const first = await school.sync();
    expect(first.status, e2e.system.logs()).toBe('applied');
  }, 300_000);

  it('odd records remove nobody and no booking is cancelled', async () => {
    const truth = (await school.sim('GET', '/ground-truth')) as {
      datasets: Record<string, RawElement[]>;
    };
    const rows = (d: string) => truth.datasets[d]!;
    const has = (r: RawElement, name: string) => r.children.some((c) => c.name === name);
    const staffB = rows('currentStaff').find((s) => has(s, 'Roles'))!.attributes.Id!;
    const staffA = rows('currentStaff').find((s) => s.attributes.Id !== staffB)!.attributes.Id!;

    const snap = await rosterSnapshot(e2e.clients, school.id);
    const { pupils, contacts } = bookablePupils(snap);
    const [p1, p2, p3, p4, p5, p6, leaver] = pupils as [string, ...string[]];
    const eventA = await bookParentsEvening(e2e.clients, school.id, [p1, p2, p3], staffA, contacts, 8);
    const eventB = await bookParentsEvening(e2e.clients, school.id, [p4!, p5!, p6!], staffB, contacts, 9);
    const control = await bookParentsEvening(e2e.clients, school.id, [leaver!], staffA, contacts, 10);

    const contactRecord = JSON.parse(snap.get(`contact/${contacts.get(p3)}`)!.slice('active '.length)) as {
      contactIds: string[];
    };
    const set = rows('teachingSets').find((s) => has(s, 'Teachers'))!.attributes.Id!;
    const edits: [dataset: string, recordId: string, path: string, value: string | null][] = [
      ['currentStaff', staffA, 'TeachingStaff', 'Y'],
      ['currentStaff', staffB, 'Roles/Role/@Id', null],
      ['currentPupils', p1, 'NCYear', 'Year 9'],
      ['currentPupils', p1, 'DOB', '31/02/2011'],
      ['currentPupils', p2!, '@AcademicHouseId', 'x'],
      ['contacts', contactRecord.contactIds[0]!, 'MailMergeAll', 'maybe'],
      ['contacts', contactRecord.contactIds[0]!, 'Pupils/Pupil/@Id', null],
      ['teachingSets', set, 'Teachers/Teacher/@PrimaryTeacher', 'Maybe'],
      ['teachingSetLists', rows('teachingSetLists')[0]!.attributes.Id!, '@PupilId', ' '],
      ['customGroupMembership', rows('customGroupMembership')[0]!.attributes.Id!, 'CustomGroupId', 'x'],
      ['customGroups', rows('customGroups')[0]!.attributes.Id!, 'ExpiryDate', 'soon'],
      // what the decoder makes of a byte that is not UTF-8 (e.g. Windows-1252 "é") — served here as U+FFFD
      ['currentPupils', p3!, 'Forename', 'Ren\uFFFDe'],
    ];
    for (const [dataset, recordId, path, value] of edits)
      await school.sim('POST', '/raw-edits', { dataset, recordId, path, value });
    // readable changes next to the odd values, and one pupil who really leaves
    await school.sim('PATCH', `/staff/${staffA}`, { surname: 'Renamed' });
    await school.sim('DELETE', `/pupils/${leaver}`);

    const run = await school.sync();
    expect(run.status, JSON.stringify(run.error)).toBe('applied');
    // the leaver's booking is cancelled (the bookings service has processed the run) — and only that one
    const cancelled = await waitForBookings(e2e.clients, school.id, control.eventId, (l) =>
      l.every((b) => b.status === 'cancelled'),
    );
    expect(cancelled.map((b) => b.status)).toEqual(['cancelled']);
    for (const e of [eventA, eventB])
      expect((await listBookings(e2e.clients, school.id, e.eventId)).map((b) => b.status)).toEqual(
        Array(3).fill('booked'),
      );
    const removedEvents = e2e.changes
      .forTenant(school.id)
      .filter((e) => e.syncRunId === run.syncRunId && e.change === 'removed');
    expect(removedEvents.map((e) => `${e.entityType}/${e.entityId}`)).toEqual([`pupil/${leaver}`]);

    const removedCounts = Object.fromEntries(
      Object.entries(run.rosterCounts ?? {}).flatMap(([t, c]) =>
        (c.removed ?? 0) + (c.held ?? 0) > 0 ? [[t, c]] : [],
      ),
    );
    expect(Object.keys(removedCounts)).toEqual(['pupil']);
    expect(run.rosterCounts?.pupil).toMatchObject({ removed: 1, held: 0 });
    expect(run.rosterCounts?.staff).toMatchObject({ updated: 1, removed: 0 });

    const after = await rosterSnapshot(e2e.clients, school.id);
    const image = (key: string) =>
      JSON.parse(after.get(key)!.slice(after.get(key)!.indexOf(' ') + 1)) as Record<string, unknown>;
    expect(after.get(`staff/${staffA}`)).toMatch(/^active /);
    expect(image(`staff/${staffA}`)).toMatchObject({ surname: 'Renamed', teaching: true });
    expect(image(`staff/${staffB}`)).toEqual(
      JSON.parse(snap.get(`staff/${staffB}`)!.slice('active '.length)),
    );
    const before = (key: string) =>
      JSON.parse(snap.get(key)!.slice('active '.length)) as Record<string, unknown>;
    expect(image(`pupil/${p3}`).forename).toBe(before(`pupil/${p3}`).forename);
    expect(image(`pupil/${p1}`)).toMatchObject({
      yearGroupId: (JSON.parse(snap.get(`pupil/${p1}`)!.slice(7)) as { yearGroupId: string }).yearGroupId,
    });

    const findings = await school.api<{
      findings: { code: string; datasetId: string; recordId: string; field: string; message: string }[];
    }>('GET', `/sync-runs/${run.syncRunId}/findings?code=ISAMS_FIELD_UNREADABLE&pageSize=200`);
    const named = findings.findings.map((f) => `${f.datasetId} ${f.recordId} ${f.field}`);
    expect(named).toContain(`currentStaff ${staffB} Roles/Role/@Id`);
    expect(named).toContain(`currentPupils ${p1} DOB`);
    expect(named).toContain(`currentPupils ${p3} Forename`);
    expect(findings.findings.every((f) => /In iSAMS/.test(f.message))).toBe(true);

    // the same school read as JSON (single objects, #text): still nobody removed, nothing cancelled
    await school.api('PUT', '/settings', {
      isamsUrl: e2e.system.simulator.url,
      apiKey: school.apiKey,
      format: 'json',
      scheduleMinutes: 60,
      enabled: true,
    });
    const json = await school.sync();
    expect(['applied', 'unchanged'], JSON.stringify(json.error)).toContain(json.status);
    expect(Object.values(json.rosterCounts ?? {}).every((c) => (c.removed ?? 0) + (c.held ?? 0) === 0)).toBe(
      true,
    );
    for (const e of [eventA, eventB])
      expect((await listBookings(e2e.clients, school.id, e.eventId)).map((b) => b.status)).toEqual(
        Array(3).fill('booked'),
      );
    const last = await rosterSnapshot(e2e.clients, school.id);
    expect(JSON.parse(last.get(`pupil/${p3}`)!.slice('active '.length))).toMatchObject({
      forename: before(`pupil/${p3}`).forename,
    });
  }, 600_000);
});
