import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { KEY, testSim } from '../support/sim-app';
import type { TestSim } from '../support/sim-app';

let sim: TestSim;
const batch = (
  query: string,
  init: { method?: 'GET' | 'POST'; body?: string; headers?: Record<string, string>; format?: string } = {},
) =>
  sim.app.inject({
    method: init.method ?? 'GET',
    url: `/api/batch/1.0/${init.format ?? 'xml'}.ashx${query}`,
    ...(init.body !== undefined ? { payload: init.body } : {}),
    headers: init.headers ?? {},
  });
const messageId = (body: string) => /<MessageId>([^<]+)<\/MessageId>/.exec(body)?.[1];

beforeEach(async () => {
  sim = testSim();
  const res = await sim.admin('POST', '/admin/schools', {
    schoolId: 'a',
    seed: 1,
    size: 'small',
    apiKey: KEY,
  });
  expect(res.status).toBe(201);
});
afterEach(async () => {
  await sim.app.close();
});

describe('batch endpoint: the key, the methods to run and the document served', () => {
  it('accepts the key braced or bare, in any case, as apiKey or apikey, on any path casing', async () => {
    for (const q of [`?apiKey=${KEY}`, `?apiKey={${KEY.toLowerCase()}}`, `?apikey=${KEY}`]) {
      const res = await batch(q);
      expect(res.statusCode).toBe(200);
      expect(res.body.startsWith('<iSAMS>')).toBe(true);
    }
    const upper = await sim.app.inject({ method: 'GET', url: `/API/Batch/1.0/XML.ashx?apiKey=${KEY}` });
    expect(upper.statusCode).toBe(200);
  });

  it('answers a missing key with MissingParameter and an unknown key with InvalidApiKey 401, utf-16 declaration included', async () => {
    const missing = await batch('');
    expect(missing.statusCode).toBe(400);
    expect(messageId(missing.body)).toBe('MissingParameter');
    const unknown = await batch('?apiKey=11111111-2222-3333-4444-555555555555');
    expect(unknown.statusCode).toBe(401);
    expect(unknown.body.startsWith('<?xml version="1.0" encoding="utf-16"?>')).toBe(true);
    expect(messageId(unknown.body)).toBe('InvalidApiKey');
  });

  it('serves only the allocated datasets and honours MethodsToRun case-insensitively (any Content-Type)', async () => {
    await sim.admin('PATCH', '/admin/schools/a/key', {
      datasets: ['teachingSets', 'yearGroups', 'currentPupils'],
    });
    const all = await batch(`?apiKey=${KEY}`);
    expect(all.body).toContain('<Sets>');
    expect(all.body).not.toContain('<CurrentStaff');
    const some = await batch(`?apiKey=${KEY}`, {
      method: 'POST',
      format: 'json',
      headers: { 'content-type': 'application/json' },
      body: '\uFEFF<Filters><MethodsToRun><Method>school_getallyears</Method></MethodsToRun></Filters>',
    });
    expect(some.statusCode).toBe(200);
    expect(Object.keys(JSON.parse(some.body).iSAMS)).toEqual(['SchoolManager']);
  });

  it('refuses methods not on the key with 403 listing them lower-cased', async () => {
    await sim.admin('DELETE', '/admin/schools/a/key/datasets/teachingSets');
    const res = await batch(`?apiKey=${KEY}`, {
      method: 'POST',
      body: '<Filters><MethodsToRun><Method>Teaching_GetTeachingSets</Method><Method>Pupil_GetApplicant</Method><Method>School_GetAllYears</Method></MethodsToRun></Filters>',
    });
    expect(res.statusCode).toBe(403);
    expect(res.body).toContain(
      'not allocated to the requested key: teaching_getteachingsets, pupil_getapplicant</Description>',
    );
  });

  it('answers a …Filtered method run without its filter with FiltersRequiredException 400; with the filter it serves the dataset', async () => {
    const run = (filter: string) =>
      batch(`?apiKey=${KEY}`, {
        method: 'POST',
        body: `<Filters><MethodsToRun><Method>Pupil_GetCustomPupilGroupMembershipFiltered</Method></MethodsToRun>${filter}</Filters>`,
      });
    for (const filter of ['', '<StudentManager><CustomPupilGroupMembershipFiltered/></StudentManager>']) {
      const res = await run(filter);
      expect(res.statusCode).toBe(400);
      expect(messageId(res.body)).toBe('FiltersRequiredException');
      expect(res.body).toContain(
        '<Description>Method &quot;Pupil - GetCustomPupilGroupMembershipFiltered&quot; requires at least one filter. No filters have been supplied.</Description>',
      );
    }
    for (const module of ['StudentManager', 'PupilManager']) {
      const res = await run(
        `<${module}><CustomPupilGroupMembershipFiltered SystemStatusesToInclude="0,1"/></${module}>`,
      );
      expect(res.statusCode).toBe(200);
      expect(res.body).toContain('<CustomPupilGroupMembershipItems>');
      expect(res.body).not.toContain('<CurrentPupils>');
    }
  });

  it('answers a malformed filter body with the UnhandledException 500', async () => {
    const res = await batch(`?apiKey=${KEY}`, { method: 'POST', body: 'not xml at all <' });
    expect(res.statusCode).toBe(500);
    expect(res.body).toContain('Data at the root level is invalid.');
  });

  it('writes an allocated dataset with no rows as an empty container', async () => {
    await sim.admin('POST', '/admin/schools/a/datasets/teachingSets/empty');
    await sim.admin('POST', '/admin/schools/a/refresh');
    const res = await batch(`?apiKey=${KEY}`);
    expect(res.body).toContain('<Sets />');
    const json = await batch(`?apiKey=${KEY}`, { format: 'json' });
    expect(JSON.parse(json.body).iSAMS.TeachingManager.Sets).toBeNull();
  });
});

describe('batch endpoint: the output cache', () => {
  it('caches the output per key until expiry; mutations appear after expiry or a manual refresh', async () => {
    const first = await batch(`?apiKey=${KEY}`);
    const pupil = await sim.admin('POST', '/admin/schools/a/pupils', { forename: 'Zébédée', ncYear: 9 });
    expect(pupil.status).toBe(201);
    sim.clock.now += 3_599_000;
    expect((await batch(`?apiKey=${KEY}`)).body).toBe(first.body);
    sim.clock.now += 1_000;
    expect((await batch(`?apiKey=${KEY}`)).body).toContain('Zébédée');

    await sim.admin('PATCH', `/admin/schools/a/pupils/${pupil.json.id}`, { forename: 'Renamed' });
    expect((await batch(`?apiKey=${KEY}`)).body).toContain('Zébédée');
    await sim.admin('POST', '/admin/schools/a/refresh');
    const after = (await batch(`?apiKey=${KEY}`)).body;
    expect(after).toContain('Renamed');
    expect(after).not.toContain('Zébédée');
  });

  it('serves live data in Development (bypass) mode', async () => {
    await sim.admin('PATCH', '/admin/schools/a/key', { cacheMode: 'bypass' });
    await batch(`?apiKey=${KEY}`);
    await sim.admin('POST', '/admin/schools/a/staff', { surname: 'Ødegaard-New' });
    expect((await batch(`?apiKey=${KEY}`)).body).toContain('Ødegaard-New');
  });

  it('keeps separate cache entries per MethodsToRun by default and one per key when configured', async () => {
    const years = '<Filters><MethodsToRun><Method>School_GetAllYears</Method></MethodsToRun></Filters>';
    await batch(`?apiKey=${KEY}`);
    await sim.admin('PATCH', '/admin/schools/a/key', { cacheKeying: 'key' });
    await batch(`?apiKey=${KEY}`);
    await sim.admin('POST', '/admin/schools/a/staff', { surname: 'Later' });
    await sim.admin('POST', '/admin/schools/a/pupils', { forename: 'Later' });
    const withBody = await batch(`?apiKey=${KEY}`, { method: 'POST', body: years });
    expect(withBody.statusCode).toBe(200);
    const summary = await sim.admin('GET', '/admin/schools/a');
    expect(summary.json.cache).toHaveLength(1);
    await sim.admin('PATCH', '/admin/schools/a/key', { cacheKeying: 'key+methods' });
    await batch(`?apiKey=${KEY}`);
    await batch(`?apiKey=${KEY}`, { method: 'POST', body: years });
    expect((await sim.admin('GET', '/admin/schools/a')).json.cache).toHaveLength(2);
  });
});

describe('batch endpoint: caller IP, throttling, key state and faults', () => {
  it('checks the caller IP against exact IPs and ranges, using X-Forwarded-For only behind a trusted proxy', async () => {
    await sim.admin('PATCH', '/admin/schools/a/key', { allowedIps: ['203.0.113.0/24'] });
    const refused = await batch(`?apiKey=${KEY}`, { headers: { 'x-forwarded-for': '203.0.113.7' } });
    expect(refused.statusCode).toBe(403);
    expect(messageId(refused.body)).toBe('IPAddressRestricted');
    await sim.admin('PATCH', '/admin/schools/a/key', { allowedIps: ['127.0.0.1'] });
    expect((await batch(`?apiKey=${KEY}`)).statusCode).toBe(200);
    await sim.app.close();

    sim = testSim({ trustProxy: true });
    await sim.admin('POST', '/admin/schools', {
      schoolId: 'a',
      seed: 1,
      size: 'small',
      apiKey: KEY,
      allowedIps: ['203.0.113.0/24'],
    });
    expect(
      (await batch(`?apiKey=${KEY}`, { headers: { 'x-forwarded-for': '203.0.113.7, 10.0.0.1' } })).statusCode,
    ).toBe(200);
    expect(
      (await batch(`?apiKey=${KEY}`, { headers: { 'x-forwarded-for': '198.51.100.1' } })).statusCode,
    ).toBe(403);
  });

  it('throttles per key with the 429 ThrottleLimitExceeded document', async () => {
    await sim.admin('PATCH', '/admin/schools/a/key', { throttle: { limit: 2, windowMs: 60_000 } });
    expect((await batch(`?apiKey=${KEY}`)).statusCode).toBe(200);
    expect((await batch(`?apiKey=${KEY}`)).statusCode).toBe(200);
    const third = await batch(`?apiKey=${KEY}`);
    expect(third.statusCode).toBe(429);
    expect(third.body).toContain('request limit of 2 requests per 1 minute');
    sim.clock.now += 60_000;
    expect((await batch(`?apiKey=${KEY}`)).statusCode).toBe(200);
  });

  it('answers an inactive key like an invalid one', async () => {
    await sim.admin('PATCH', '/admin/schools/a/key', { active: false });
    const res = await batch(`?apiKey=${KEY}`);
    expect(res.statusCode).toBe(401);
    expect(messageId(res.body)).toBe('InvalidApiKey');
  });

  it('applies a fault the given number of times, then clears it', async () => {
    await sim.admin('POST', '/admin/schools/a/faults', { kind: 'deadlock', times: 2 });
    for (let i = 0; i < 2; i += 1) {
      const res = await batch(`?apiKey=${KEY}`);
      expect(res.statusCode).toBe(500);
      expect(res.body).toContain('Rerun the transaction.');
    }
    expect((await batch(`?apiKey=${KEY}`)).statusCode).toBe(200);
    await sim.admin('POST', '/admin/schools/a/faults', { kind: 'lockTimeout', times: 5 });
    expect((await sim.admin('DELETE', '/admin/schools/a/faults')).status).toBe(204);
    expect((await batch(`?apiKey=${KEY}`)).statusCode).toBe(200);
  });
});
