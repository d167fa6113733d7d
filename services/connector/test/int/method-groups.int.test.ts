import { datasetSnapshotCompletedV1, rawDatasetChunkV1 } from '@isams-sync/events';
import type { connectorV1 } from '@isams-sync/grpc';
import type { EventProducer } from '@isams-sync/kafka';
import { eventually, getTestInfra, type SimulatorProcess } from '@isams-sync/testing';
import { MongoClient } from 'mongodb';
import type { Collection } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  expectUncommitted,
  readAll,
  readRun,
  useConnectorSuite,
  fakeRosterProducer,
  rosterReportEvent,
} from '../support/connector-harness';

/**
 * iSAMS gives up generating a document after ~35 s (reference §1.8, §4 item 1), more often the
 * bigger the school. The simulator's per-school time model (set small here) makes the whole-key
 * request time out; the connector then fetches the same key in method groups (`MethodsToRun`).
 */

const MODULE_GROUPS = [
  ['currentStaff', 'academicHouses', 'boardingHouses', 'schoolForms', 'schoolDivisions', 'yearGroups'],
  ['contacts', 'currentPupils', 'customGroupMembership', 'customGroups'],
  ['departmentsAndSubjects', 'teachingForms', 'teachingSets', 'teachingSetLists'],
];
const keyFor = (i: number) => `{EEEEEEEE-0000-4000-8000-${String(i).padStart(12, '0')}}`;
type Run = connectorV1.SyncRun__Output;
const fingerprints = (run: Run) => Object.fromEntries(run.datasets.map((d) => [d.datasetId, d.fingerprint]));

/** Runs `fn` on the connector's stored fetch plans (its test database). */
async function withFetchPlans<T>(
  mongoDb: string,
  fn: (plans: Collection<{ _id: string; switchedAt?: Date }>) => Promise<T>,
): Promise<T> {
  const client = new MongoClient(getTestInfra().mongoUrl);
  await client.connect();
  try {
    return await fn(client.db(mongoDb).collection('fetch_plans'));
  } finally {
    await client.close();
  }
}

/** Shared by both describe blocks: a simulator, a connector on its own database, a fake roster. */
function harness(connectorEnv: Record<string, string> = {}) {
  const h = useConnectorSuite({
    env: {
      MANUAL_TRIGGER_LIMIT: '50',
      // A large school's document is parsed on the event loop the heartbeat shares.
      RUN_LEASE_TTL_MS: '30s',
      ...connectorEnv,
    },
  });
  let roster: EventProducer;
  beforeAll(async () => {
    roster = fakeRosterProducer();
    await roster.connect();
  });
  afterAll(async () => {
    await roster?.disconnect();
  });
  const md = (tenant: string) => h.client.md(tenant);
  return {
    h,
    md,
    async school(
      tenant: string,
      i: number,
      opts: Omit<Parameters<SimulatorProcess['createSchool']>[1], 'apiKey'>,
    ) {
      await h.sim.createSchool(tenant, { ...opts, apiKey: keyFor(i) });
      await h.client.putSettings({ isamsUrl: h.sim.url, apiKey: keyFor(i), enabled: true }, md(tenant));
    },
    /** Triggers a run and waits until the connector is done with it. */
    async sync(tenant: string): Promise<Run> {
      const { run } = await h.client.triggerSync({}, md(tenant));
      return eventually(
        async () => {
          const r = await h.client.getSyncRun({ syncRunId: run!.syncRunId }, md(tenant));
          return ['published', 'unchanged', 'failed'].includes(r.status) ? r : undefined;
        },
        `run of ${tenant}`,
        { timeoutMs: 120_000 },
      );
    },
    /** What the roster publishes once it applied a run (the connector then remembers its fingerprints). */
    async applied(tenant: string, syncRunId: string): Promise<void> {
      const ev = rosterReportEvent({ tenantId: tenant, syncRunId, status: 'applied', sequence: 1 });
      await roster.publish(h.env.runsTopic, [ev]);
      await eventually(
        async () => (await h.client.getSyncRun({ syncRunId }, md(tenant))).status === 'applied',
        'roster report applied',
        { timeoutMs: 60_000 },
      );
    },
    async published(syncRunId: string) {
      const all = await readAll(h.env.rawTopic);
      const mine = all.filter((m) => m.event.syncrunid === syncRunId);
      const marker = mine.find((m) => m.event.type === datasetSnapshotCompletedV1.type)?.event.data as
        | {
            datasets: Array<{ datasetId: string; fingerprint: string }>;
            absentDatasets: string[];
            findings: Array<{ code: string }>;
          }
        | undefined;
      const chunks = mine.filter((m) => m.event.type === rawDatasetChunkV1.type);
      return { marker, chunks };
    },
  };
}

describe('connector: a school over the generation limit is fetched in method groups, with the one key', () => {
  const t = harness();
  const BIG = 'big-school';

  it('a large school whose whole-key request exceeds its limit switches to groups: same fingerprints, so the run is `unchanged`', async () => {
    await t.school(BIG, 1, { seed: 21, size: 'large' });
    const whole = await t.sync(BIG);
    expect(whole.status, JSON.stringify(whole.error)).toBe('published');
    expect(whole.fetch?.mode).toBe('whole');
    await t.applied(BIG, whole.syncRunId);

    // 41,955 rows × 12 ms per 1,000 ≈ 503 ms for the whole key; the largest module (Teaching
    // Manager, 31,055 rows) ≈ 373 ms; the limit is 400 ms.
    await t.h.sim.setServer(BIG, { generation: { limitMs: 400, msPer1000Rows: 12 } });
    const grouped = await t.sync(BIG);
    expect(grouped.status, JSON.stringify(grouped.error)).toBe('unchanged');
    expect(fingerprints(grouped)).toEqual(fingerprints(whole));
    expect(grouped.datasets).toHaveLength(14);
    // The Pupil Manager group is asked twice: its first request carries every Contacts (Filtered)
    // candidate name, the 403 refuses those iSAMS does not know, the second carries the one it does.
    expect(grouped.fetch).toMatchObject({
      mode: 'groups',
      switchedBecause: 'ISAMS_TIMEOUT',
      contactsMethod: 'Pupil_GetContactsFiltered',
      groups: MODULE_GROUPS.map((datasetIds, i) => ({
        datasetIds,
        status: 'done',
        requests: i === 1 ? 2 : 1,
      })),
    });
    expect(grouped.progress).toMatchObject({ groupsDone: 3, groupsTotal: 3 });
    const stats = await t.h.sim.stats(BIG);
    // Whole key: ISAMS_RETRY_ATTEMPTS=2 attempts, both over the limit; then the three groups.
    expect(stats).toMatchObject({ generationTimeouts: 2, methodsNotAllocated: 1, documents: 1 + 3 });

    // Visible to the admin and support in the settings.
    const settings = await t.h.client.getSettings({}, t.md(BIG));
    expect(settings.fetchPlan).toMatchObject({
      mode: 'groups',
      switchedBecause: 'ISAMS_TIMEOUT',
      contactsMethod: 'Pupil_GetContactsFiltered',
      groups: MODULE_GROUPS.map((datasetIds) => ({ datasetIds })),
    });
    expect(Date.parse(settings.fetchPlan!.switchedAt)).toBeGreaterThan(Date.now() - 10 * 60_000);
  }, 240_000);

  it('the next run goes straight to the groups (no whole-key attempt), and a change in iSAMS is published from the groups', async () => {
    const before = await t.h.sim.stats(BIG);
    const again = await t.sync(BIG);
    expect(again.status).toBe('unchanged');
    const after = await t.h.sim.stats(BIG);
    expect(after.requests - before.requests).toBe(3);
    expect(after.generationTimeouts).toBe(before.generationTimeouts);

    const truth = (await t.h.sim.admin(
      'GET',
      `/admin/schools/${BIG}/ground-truth?datasets=currentPupils`,
    )) as {
      datasets: { currentPupils: Array<{ attributes: Record<string, string> }> };
    };
    const pupilId = truth.datasets.currentPupils[0]!.attributes.Id;
    await t.h.sim.admin('PATCH', `/admin/schools/${BIG}/pupils/${pupilId}`, { surname: 'Grouped-Change' });
    const changed = await t.sync(BIG);
    expect(changed.status).toBe('published');
    const fp = fingerprints(changed);
    const fpAgain = fingerprints(again);
    expect(Object.keys(fp).filter((d) => fp[d] !== fpAgain[d])).toEqual(
      expect.arrayContaining(['currentPupils']),
    );
    const { marker, chunks } = await t.published(changed.syncRunId);
    expect(marker?.datasets.map((d) => d.datasetId).sort()).toEqual(MODULE_GROUPS.flat().sort());
    expect(marker?.absentDatasets).toEqual([]);
    expect(new Set(chunks.map((c) => (c.event.data as { datasetId: string }).datasetId)).size).toBe(14);
  }, 240_000);

  it('a group that keeps failing, even alone, fails the run, names its dataset and commits nothing', async () => {
    const tenant = 'stubborn';
    // Medium school: set lists alone (7,500 rows × 40 ms per 1,000 = 300 ms) exceed the 100 ms limit.
    // Its server closes the connection after every response.
    await t.school(tenant, 2, {
      seed: 5,
      size: 'medium',
      connection: 'close',
      generation: { limitMs: 100, msPer1000Rows: 40 },
    });
    const run = await t.sync(tenant);
    expect(run.status).toBe('failed');
    expect(run.error).toMatchObject({ code: 'ISAMS_TIMEOUT', transient: true });
    expect(run.error?.message).toContain('Teaching Manager – Teaching Set Lists');
    expect(run.error?.message).toMatch(/method group/i);
    expect(run.error?.adminAction).toMatch(/method groups/);
    expect(run.datasets).toEqual([]);
    const failed = run.fetch?.groups.find((g) => g.status === 'failed');
    expect(failed?.datasetIds).toEqual(['teachingSetLists']);
    const { marker } = await t.published(run.syncRunId);
    expect(marker).toBeUndefined();
    // The groups read before the failing one may have been published; whole, and never applied.
    expectUncommitted(await readAll(t.h.env.rawTopic), [run.syncRunId]);
    // The splits learnt are kept for the next run.
    const plan = (await t.h.client.getSettings({}, t.md(tenant))).fetchPlan!;
    expect(plan.mode).toBe('groups');
    expect(plan.groups.map((g) => g.datasetIds)).toContainEqual(['teachingSetLists']);
    expect(plan.groups.flatMap((g) => g.datasetIds).sort()).toEqual(MODULE_GROUPS.flat().sort());
  }, 240_000);

  it('a keep-alive school and a close-per-response school both sync, whole and in groups, to the same data', async () => {
    await t.school('keep-alive', 3, { seed: 8, size: 'small', connection: 'keep-alive' });
    await t.school('close', 4, { seed: 8, size: 'small', connection: 'close' });
    const [ka, cl] = [await t.sync('keep-alive'), await t.sync('close')];
    expect([ka.status, cl.status]).toEqual(['published', 'published']);
    expect(fingerprints(cl)).toEqual(fingerprints(ka));
    // 2,821 rows × 100 ms per 1,000 ≈ 282 ms for the whole key; the limit is 200 ms.
    for (const tenant of ['keep-alive', 'close'])
      await t.h.sim.setServer(tenant, { generation: { limitMs: 200, msPer1000Rows: 100 } });
    const [kaGroups, clGroups] = [await t.sync('keep-alive'), await t.sync('close')];
    expect([kaGroups.fetch?.mode, clGroups.fetch?.mode]).toEqual(['groups', 'groups']);
    expect([kaGroups.status, clGroups.status]).toEqual(['published', 'published']);
    expect(fingerprints(kaGroups)).toEqual(fingerprints(ka));
    expect(fingerprints(clGroups)).toEqual(fingerprints(ka));
  }, 240_000);

  it('a group cut off part-way is retried on its own, after back-off, and the run still has every dataset once', async () => {
    // A whole-key document cut off after records fails the run (a retry would duplicate records);
    // a group's records are discarded and the group alone is asked again.
    const before = await t.h.sim.stats('close');
    await t.h.sim.fault('close', 'connectionReset', 1);
    const run = await t.sync('close');
    expect(run.status, JSON.stringify(run.error)).toBe('published');
    expect(run.fetch?.mode).toBe('groups');
    expect(run.fetch?.groups.map((g) => g.status)).toEqual(['done', 'done', 'done']);
    const reference = await t.sync('keep-alive');
    expect(fingerprints(run)).toEqual(fingerprints(reference));
    expect(run.datasets).toHaveLength(14);
    const left = (await t.h.sim.admin('GET', '/admin/schools/close/faults')) as { faults: unknown[] };
    expect(left.faults).toEqual([]);
    // The three groups, and the first one once more.
    expect((await t.h.sim.stats('close')).requests - before.requests).toBe(4);
    const { marker, chunks } = await t.published(run.syncRunId);
    expect(marker?.datasets.map((d) => d.datasetId).sort()).toEqual(MODULE_GROUPS.flat().sort());
    const records = new Map<string, number>();
    for (const c of chunks) {
      const data = c.event.data as { datasetId: string; records: unknown[] };
      records.set(data.datasetId, (records.get(data.datasetId) ?? 0) + data.records.length);
    }
    expect(Object.fromEntries(records)).toEqual(
      Object.fromEntries(run.datasets.map((d) => [d.datasetId, Number(d.recordCount)])),
    );
  }, 240_000);
});

describe('connector: a school in method groups tries its whole key again a week later', () => {
  const t = harness();
  const SCHOOL = 'once-slow';

  it('a week after it last needed groups, a run tries the whole key again: still over the limit, it goes on in its groups; under it, the school is back on the whole key', async () => {
    // A small school over a small limit (2,821 rows × 100 ms per 1,000 ≈ 282 ms for the whole key;
    // the limit is 200 ms): its first run switches to groups.
    await t.school(SCHOOL, 31, { seed: 12, size: 'small', generation: { limitMs: 200, msPer1000Rows: 100 } });
    const first = await t.sync(SCHOOL);
    expect(first.status, JSON.stringify(first.error)).toBe('published');
    expect(first.fetch?.mode).toBe('groups');
    // The stored plan as if the school last needed groups a week and a minute ago.
    const aWeekAgo = () =>
      withFetchPlans(t.h.env.mongoDb, (plans) =>
        plans.updateOne(
          { _id: SCHOOL },
          { $set: { switchedAt: new Date(Date.now() - 7 * 86_400_000 - 60_000) } },
        ),
      );
    await aWeekAgo();
    const before = await t.h.sim.stats(SCHOOL);
    const stillGrouped = await t.sync(SCHOOL);
    expect(stillGrouped.status, JSON.stringify(stillGrouped.error)).not.toBe('failed');
    expect(stillGrouped.fetch?.mode).toBe('groups');
    const tried = await t.h.sim.stats(SCHOOL);
    // The whole key's two attempts over the limit, then the three groups as they were.
    expect(tried.generationTimeouts - before.generationTimeouts).toBe(2);
    expect(tried.requests - before.requests).toBe(2 + 3);
    const plan = (await t.h.client.getSettings({}, t.md(SCHOOL))).fetchPlan!;
    expect(plan).toMatchObject({
      mode: 'groups',
      groups: MODULE_GROUPS.map((datasetIds) => ({ datasetIds })),
    });
    // The next try is a week from now: the next run goes straight to the groups.
    expect(Date.parse(plan.switchedAt)).toBeGreaterThan(Date.now() - 10 * 60_000);
    await t.sync(SCHOOL);
    expect((await t.h.sim.stats(SCHOOL)).requests - tried.requests).toBe(3);

    // iSAMS is quick again (a faster server): a week on, the whole key answers in one request and
    // the school is back on it, the Contacts name it learnt kept.
    await t.h.sim.setServer(SCHOOL, { generation: { limitMs: 60_000, msPer1000Rows: 100 } });
    await aWeekAgo();
    const quick = await t.h.sim.stats(SCHOOL);
    const whole = await t.sync(SCHOOL);
    expect(whole.status, JSON.stringify(whole.error)).not.toBe('failed');
    expect(whole.fetch?.mode).toBe('whole');
    expect(whole.datasets).toHaveLength(14);
    expect((await t.h.sim.stats(SCHOOL)).requests - quick.requests).toBe(1);
    expect((await t.h.client.getSettings({}, t.md(SCHOOL))).fetchPlan).toMatchObject({
      mode: 'whole',
      contactsMethod: 'Pupil_GetContactsFiltered',
    });
  }, 240_000);
});

describe('connector: the Contacts (Filtered) method name is unknown ([U]); learnt from the 403, or reported absent', () => {
  // The simulator's (invented) name is the second candidate; the first is refused with a 403.
  const t = harness({
    ISAMS_CONTACTS_METHODS: 'Pupil_GetContacts,Pupil_GetContactsFiltered,Pupil_GetStudentContacts',
  });
  const SLOW = { limitMs: 200, msPer1000Rows: 100 };

  it('learns the name iSAMS accepts from the names its 403 echoes, and sends only that one next time', async () => {
    const tenant = 'learns';
    await t.school(tenant, 10, { seed: 12, size: 'small', generation: SLOW });
    const first = await t.sync(tenant);
    expect(first.status, JSON.stringify(first.error)).toBe('published');
    expect(first.absentDatasets).toEqual([]);
    expect((await t.h.sim.stats(tenant)).methodsNotAllocated).toBe(1);
    expect((await t.h.client.getSettings({}, t.md(tenant))).fetchPlan?.contactsMethod).toBe(
      'Pupil_GetContactsFiltered',
    );
    const second = await t.sync(tenant);
    expect(second.status).toBe('published');
    expect(fingerprints(second)).toEqual(fingerprints(first));
    expect((await t.h.sim.stats(tenant)).methodsNotAllocated).toBe(1);
  }, 120_000);

  it('when no candidate is accepted, contacts are reported absent with a finding in plain words — never empty', async () => {
    const tenant = 'no-contacts-name';
    const withoutContacts = MODULE_GROUPS.flat().filter((d) => d !== 'contacts');
    await t.school(tenant, 11, { seed: 12, size: 'small', datasets: withoutContacts, generation: SLOW });
    const run = await t.sync(tenant);
    expect(run.status, JSON.stringify(run.error)).toBe('published');
    expect(run.fetch?.mode).toBe('groups');
    expect(run.absentDatasets).toEqual(['Pupil Manager – Contacts (Filtered)']);
    expect(run.datasets.map((d) => d.datasetId)).not.toContain('contacts');
    const doc = await readRun(t.h.env, tenant, run.syncRunId);
    const finding = doc?.findings.find((f) => f.code === 'CONNECTOR_CONTACTS_METHOD_UNKNOWN');
    expect(finding).toMatchObject({ datasetId: 'contacts' });
    expect(finding?.message).toContain(
      'Pupil_GetContacts, Pupil_GetContactsFiltered, Pupil_GetStudentContacts',
    );
    expect(finding?.message).toMatch(/nothing was removed/i);
    const { marker, chunks } = await t.published(run.syncRunId);
    expect(marker?.absentDatasets).toEqual(['contacts']);
    expect(marker?.findings.map((f) => f.code)).toContain('CONNECTOR_CONTACTS_METHOD_UNKNOWN');
    expect(chunks.filter((c) => (c.event.data as { datasetId: string }).datasetId === 'contacts')).toEqual(
      [],
    );
  }, 120_000);
});
