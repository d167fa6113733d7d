import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RawElement } from '../../src/domain/isams-lib';
import { KEY, testSim } from '../support/sim-app';
import type { TestSim } from '../support/sim-app';

let sim: TestSim;
beforeEach(async () => {
  sim = testSim();
  await sim.admin('POST', '/admin/schools', {
    schoolId: 'a',
    seed: 3,
    size: 'small',
    apiKey: KEY,
    cacheMode: 'bypass',
  });
});
afterEach(async () => {
  await sim.app.close();
});

const truth = async (dataset: string): Promise<RawElement[]> =>
  (await sim.admin('GET', `/admin/schools/a/ground-truth?datasets=${dataset}`)).json.datasets[dataset];
const ids = (rows: RawElement[]) => rows.map((r) => r.attributes.Id);

describe('admin API: bad requests and record edits', () => {
  it('rejects bad requests with coded 4xx errors', async () => {
    expect(
      (await sim.admin('POST', '/admin/schools', { schoolId: 'a', seed: 3, size: 'small' })).json.error.code,
    ).toBe('SIM_SCHOOL_EXISTS');
    expect(
      (await sim.admin('POST', '/admin/schools', { schoolId: 'b', seed: 3, size: 'huge' })).json.error.code,
    ).toBe('SIM_INVALID_REQUEST');
    expect(
      (
        await sim.admin('POST', '/admin/schools', {
          schoolId: 'b',
          seed: 4,
          size: 'small',
          apiKey: `{${KEY}}`,
        })
      ).json.error.code,
    ).toBe('SIM_API_KEY_IN_USE');
    expect(
      (await sim.admin('POST', '/admin/schools', { schoolId: 'b', xml: '<iSAMS><Broken>' })).json.error.code,
    ).toBe('SIM_XML_INVALID');
    const missing = await sim.admin('PATCH', '/admin/schools/a/pupils/1', { forename: 'x' });
    expect([missing.status, missing.json.error.code]).toEqual([404, 'SIM_RECORD_NOT_FOUND']);
    const badField = await sim.admin('PATCH', '/admin/schools/a/pupils/700', { shoeSize: 9 });
    expect([badField.status, badField.json.error.code]).toEqual([400, 'SIM_INVALID_REQUEST']);
    expect((await sim.admin('GET', '/admin/schools/zzz')).status).toBe(404);
  });

  it('adds, updates and removes pupils (leavers keep their set-list rows unless purged)', async () => {
    const added = await sim.admin('POST', '/admin/schools/a/pupils', {
      ncYear: 9,
      forename: 'Siân',
      surname: "O'Brien & Co",
      emailAddress: null,
    });
    expect(added.status).toBe(201);
    const pupil = (await truth('currentPupils')).find(
      (p) => p.attributes.Id === String(added.json.id),
    ) as RawElement;
    expect(pupil.children.find((c) => c.name === 'Surname')?.text).toBe("O'Brien & Co");
    expect(pupil.children.some((c) => c.name === 'EmailAddress')).toBe(false);

    const setId = (await truth('teachingSets'))[0]?.attributes.Id;
    const row = await sim.admin('POST', '/admin/schools/a/set-lists', {
      setId: Number(setId),
      pupilId: added.json.id,
    });
    expect(row.status).toBe(201);
    expect((await sim.admin('DELETE', `/admin/schools/a/pupils/${added.json.id}`)).status).toBe(204);
    expect(ids(await truth('currentPupils'))).not.toContain(String(added.json.id));
    expect(ids(await truth('teachingSetLists'))).toContain(String(row.json.id));
    await sim.admin('DELETE', `/admin/schools/a/pupils/${added.json.id}?purge=true`);
    expect(ids(await truth('teachingSetLists'))).not.toContain(String(row.json.id));
  });

  it('manages staff, joint contacts, sets and memberships', async () => {
    const staff = await sim.admin('POST', '/admin/schools/a/staff', { forename: 'Łucja' });
    await sim.admin('PATCH', `/admin/schools/a/staff/${staff.json.id}`, { preferredName: 'Lu' });
    expect(
      (await truth('currentStaff'))
        .find((s) => s.attributes.Id === String(staff.json.id))
        ?.children.find((c) => c.name === 'PreferredName')?.text,
    ).toBe('Lu');
    await sim.admin('DELETE', `/admin/schools/a/staff/${staff.json.id}`);
    expect(ids(await truth('currentStaff'))).not.toContain(String(staff.json.id));

    const contact = await sim.admin('POST', '/admin/schools/a/contacts', {
      pupilIds: [700],
      people: [
        { forename: 'Ana', surname: 'Peña' },
        { forename: 'Bo', surname: 'Peña' },
      ],
    });
    expect(contact.status).toBe(201);
    const rows = (await truth('contacts')).filter((c) => c.attributes.Id === String(contact.json.id));
    expect(rows.map((r) => r.attributes.IsFirstPersonContact)).toEqual(['True', 'False']);
    await sim.admin('PATCH', `/admin/schools/a/contacts/${contact.json.id}?person=1`, { forename: 'Bjørn' });
    expect(JSON.stringify(await truth('contacts'))).toContain('Bjørn');
    await sim.admin('DELETE', `/admin/schools/a/contacts/${contact.json.id}`);
    expect(ids(await truth('contacts'))).not.toContain(String(contact.json.id));

    const set = await sim.admin('POST', '/admin/schools/a/sets', {
      subjectId: 20,
      yearId: 9,
      setCode: '9/Ma9',
    });
    expect(set.status).toBe(201);
    const created = (await truth('teachingSets')).find(
      (s) => s.attributes.Id === String(set.json.id),
    ) as RawElement;
    expect(created.children.some((c) => c.name === 'Teachers')).toBe(false);
    await sim.admin('PATCH', `/admin/schools/a/sets/${set.json.id}`, {
      name: 'Renamed set',
      teacherStaffIds: [10, 11],
    });
    const updated = (await truth('teachingSets')).find(
      (s) => s.attributes.Id === String(set.json.id),
    ) as RawElement;
    expect(updated.children.find((c) => c.name === 'Teachers')?.children).toHaveLength(2);
    await sim.admin('DELETE', `/admin/schools/a/sets/${set.json.id}`);
    expect(ids(await truth('teachingSets'))).not.toContain(String(set.json.id));

    const groupId = Number((await truth('customGroups'))[0]?.attributes.Id);
    const m = await sim.admin('POST', '/admin/schools/a/memberships', {
      customGroupId: groupId,
      pupilId: 700,
    });
    expect(ids(await truth('customGroupMembership'))).toContain(String(m.json.id));
    await sim.admin('DELETE', `/admin/schools/a/memberships/${m.json.id}`);
    expect(ids(await truth('customGroupMembership'))).not.toContain(String(m.json.id));
  });
});

describe('admin API: the key', () => {
  it("refuses to remove the key's last dataset (a key has at least one method), as PATCH does", async () => {
    await sim.admin('PATCH', '/admin/schools/a/key', { datasets: ['teachingSets', 'yearGroups'] });
    expect((await sim.admin('DELETE', '/admin/schools/a/key/datasets/teachingSets')).status).toBe(200);
    const last = await sim.admin('DELETE', '/admin/schools/a/key/datasets/yearGroups');
    expect([last.status, last.json.error?.code]).toEqual([400, 'SIM_INVALID_REQUEST']);
    expect(last.json.error.message).toMatch(/at least one dataset/);
    expect((await sim.admin('GET', '/admin/schools/a')).json.key.datasets).toEqual(['yearGroups']);
    const patch = await sim.admin('PATCH', '/admin/schools/a/key', { datasets: [] });
    expect([patch.status, patch.json.error.code]).toEqual([400, 'SIM_INVALID_REQUEST']);
  });

  it('refuses allowedIps entries that can never match, naming them; keeps IPv4/IPv6 addresses and IPv4 ranges', async () => {
    for (const entry of ['not-an-ip', '::1/128', '2001:db8::/32', '10.0.0.0/33', '10.0.0/8', '300.1.1.1']) {
      const res = await sim.admin('PATCH', '/admin/schools/a/key', { allowedIps: ['127.0.0.1', entry] });
      expect([res.status, res.json.error?.code], entry).toEqual([400, 'SIM_INVALID_REQUEST']);
      expect(res.json.error.message).toContain(entry);
    }
    const created = await sim.admin('POST', '/admin/schools', {
      schoolId: 'b',
      seed: 1,
      size: 'small',
      allowedIps: ['localhost'],
    });
    expect([created.status, created.json.error?.code]).toEqual([400, 'SIM_INVALID_REQUEST']);
    const ok = await sim.admin('PATCH', '/admin/schools/a/key', {
      allowedIps: ['127.0.0.1', '10.0.0.0/8', '::1', '2001:DB8:0:0::1', '::ffff:192.0.2.1'],
    });
    expect(ok.status).toBe(200);
    expect(ok.json.key.allowedIps).toEqual(['127.0.0.1', '10.0.0.0/8', '::1', '2001:db8::1', '192.0.2.1']);
  });
});

describe('admin API: whole-school changes (churn, another school, a loaded document)', () => {
  it('runs term-time churn: leavers leave Current Students, joiners arrive', async () => {
    const before = (await truth('currentPupils')).length;
    const res = await sim.admin('POST', '/admin/schools/a/churn', { leavers: 10, joiners: 4 });
    expect(res.json.left).toHaveLength(10);
    expect(res.json.joined).toHaveLength(4);
    expect((await truth('currentPupils')).length).toBe(before - 6);
  });

  it("replaces a school's data with another generated school under the same key (same ids, other people)", async () => {
    const served = async () =>
      (await sim.app.inject({ method: 'GET', url: `/api/batch/1.0/xml.ashx?apiKey=${KEY}` })).body;
    const before = await truth('currentPupils');
    const documentBefore = await served();
    const res = await sim.admin('POST', '/admin/schools/a/replace', { seed: 4, size: 'small' });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ schoolId: 'a', source: { kind: 'generated', seed: 4, size: 'small' } });
    expect(res.json.key.apiKey).toBe(KEY);
    const after = await truth('currentPupils');
    const name = (p: RawElement) => p.children.find((c) => c.name === 'Surname')?.text;
    // iSAMS numbers people per school: the ids overlap, the people under them differ.
    expect(ids(after).filter((id) => ids(before).includes(id)).length).toBeGreaterThan(before.length / 2);
    expect(after.filter((p, i) => name(p) === name(before[i]!)).length).toBeLessThan(after.length / 2);
    expect(await served()).not.toBe(documentBefore);
    // the new data can be edited like any generated school
    expect((await sim.admin('POST', '/admin/schools/a/churn', { leavers: 1, joiners: 0 })).status).toBe(200);
    expect((await sim.admin('POST', '/admin/schools/a/replace', { seed: 4 })).json.error.code).toBe(
      'SIM_INVALID_REQUEST',
    );
  });

  it('serves a school loaded from an XML document and refuses model mutations on it', async () => {
    const xml = (await sim.app.inject({ method: 'GET', url: `/api/batch/1.0/xml.ashx?apiKey=${KEY}` })).body;
    const created = await sim.admin('POST', '/admin/schools', {
      schoolId: 'x',
      xml,
      apiKey: '{ABCDEF00-0000-4000-8000-000000000001}',
    });
    expect(created.status).toBe(201);
    const res = await sim.app.inject({
      method: 'GET',
      url: '/api/batch/1.0/xml.ashx?apiKey=ABCDEF00-0000-4000-8000-000000000001',
    });
    expect(res.statusCode).toBe(200);
    const a = (await sim.admin('GET', '/admin/schools/a/ground-truth')).json.datasets;
    const x = (await sim.admin('GET', '/admin/schools/x/ground-truth')).json.datasets;
    expect(x).toEqual(a);
    expect((await sim.admin('POST', '/admin/schools/x/pupils', {})).json.error.code).toBe('SIM_NOT_MUTABLE');
  });
});

describe('ground truth views', () => {
  it('live shows changes at once, served shows the cached output until refresh', async () => {
    await sim.admin('POST', '/admin/schools', {
      schoolId: 'c',
      seed: 3,
      size: 'small',
      apiKey: '{ABCDEF00-0000-4000-8000-00000000000C}',
    });
    await sim.app.inject({
      method: 'GET',
      url: '/api/batch/1.0/xml.ashx?apiKey=ABCDEF00-0000-4000-8000-00000000000C',
    });
    await sim.admin('POST', '/admin/schools/c/churn', { leavers: 3, joiners: 0 });
    const count = async (view: string) =>
      (await sim.admin('GET', `/admin/schools/c/ground-truth?view=${view}&datasets=currentPupils`)).json
        .datasets.currentPupils.length;
    expect(await count('live')).toBe(297);
    expect(await count('served')).toBe(300);
    await sim.admin('POST', '/admin/schools/c/refresh');
    expect(await count('served')).toBe(297);
  });
});

describe('raw edits', () => {
  it('write raw values into served records as-is, in XML and JSON, and survive model changes', async () => {
    const staff = (await truth('currentStaff')).find((s) => s.children.some((c) => c.name === 'Roles'))!;
    const id = staff.attributes.Id!;
    const edit = (path: string, value: string | null, dataset = 'currentStaff', recordId = id) =>
      sim.admin('POST', '/admin/schools/a/raw-edits', { dataset, recordId, path, value });
    expect((await edit('TeachingStaff', 'Y')).status).toBe(201);
    await edit('Roles/Role/@Id', null);
    await edit('Roles/Role[2]/Name', '');
    await edit('DOB', '31/02/1980');
    await edit('@PersonId', ' 12a ');
    await sim.admin('PATCH', `/admin/schools/a/staff/${id}`, { surname: 'Later' });

    const row = (await truth('currentStaff')).find((s) => s.attributes.Id === id)!;
    const child = (e: RawElement, name: string) => e.children.find((c) => c.name === name);
    expect(child(row, 'TeachingStaff')?.text).toBe('Y');
    expect(child(row, 'DOB')?.text).toBe('31/02/1980');
    expect(child(row, 'Surname')?.text).toBe('Later');
    expect(row.attributes.PersonId).toBe(' 12a ');
    const roles = child(row, 'Roles')!.children;
    expect(roles[0]!.attributes).toEqual({});
    if (roles[1]) expect(child(roles[1], 'Name')).toEqual({ name: 'Name', attributes: {}, children: [] });

    const xml = await sim.app.inject({ method: 'GET', url: `/api/batch/1.0/xml.ashx?apiKey=${KEY}` });
    expect(xml.body).toContain('<TeachingStaff>Y</TeachingStaff>');
    expect(xml.body).toContain('PersonId=" 12a "');
    const json = await sim.app.inject({ method: 'GET', url: `/api/batch/1.0/json.ashx?apiKey=${KEY}` });
    expect(json.body).toContain('"TeachingStaff":"Y"');

    expect((await edit('Nope[0]', 'x')).json.error.code).toBe('SIM_INVALID_REQUEST');
    expect((await edit('TeachingStaff', 'Y', 'currentStaff', '999999')).status).toBe(404);
    expect((await sim.admin('GET', '/admin/schools/a/raw-edits')).json.rawEdits).toHaveLength(5);
    expect((await sim.admin('DELETE', '/admin/schools/a/raw-edits')).status).toBe(204);
    const restored = (await truth('currentStaff')).find((s) => s.attributes.Id === id)!;
    expect(child(restored, 'TeachingStaff')?.text).toMatch(/^[01]$/);
  });
});
