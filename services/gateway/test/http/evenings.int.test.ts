import { describe, expect, it } from 'vitest';
import { useGatewayHarness } from '../support/gateway-harness';

describe('live evenings and the school’s time zone (real FerretDB, fake upstreams)', () => {
  const gw = useGatewayHarness('school-a');

  const req = (method: 'GET' | 'PUT', url: string, payload?: object) =>
    gw.h.request(gw.token, method, url, payload);
  const settings = { isamsUrl: 'https://school.isams.cloud', apiKey: 'ABCDEFGH-1234', enabled: true };

  it('saving the settings forwards the time zone to bookings, for the token’s school', async () => {
    const saved = await req('PUT', '/api/v1/schools/school-a/settings', {
      ...settings,
      timeZone: 'Australia/Sydney',
    });
    expect(saved.statusCode).toBe(200);
    expect(gw.h.upstream.calls.filter((c) => c.method === 'setSchoolTimeZone')).toEqual([
      { method: 'setSchoolTimeZone', tenantId: 'school-a', input: { timeZone: 'Australia/Sydney' } },
    ]);

    // A save without a zone passes the stored one on again (bookings converges on any later save).
    const without = await req('PUT', '/api/v1/schools/school-a/settings', settings);
    expect(without.statusCode).toBe(200);
    expect(gw.h.upstream.calls.filter((c) => c.method === 'setSchoolTimeZone').map((c) => c.input)).toEqual([
      { timeZone: 'Australia/Sydney' },
      { timeZone: 'Australia/Sydney' },
    ]);
  });

  it('an unknown time zone is refused (by the connector, with the other fields) and bookings is not asked', async () => {
    const asked = gw.h.upstream.calls.filter((c) => c.method === 'setSchoolTimeZone').length;
    const refused = await req('PUT', '/api/v1/schools/school-a/settings', {
      ...settings,
      timeZone: 'Olympus',
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error).toMatchObject({
      code: 'CONNECTOR_INVALID_ARGUMENT',
      details: { issues: [{ in: 'upstream', path: '/timeZone' }] },
    });
    expect((await req('GET', '/api/v1/schools/school-a/settings')).json().timeZone).toBe('Australia/Sydney');
    expect(gw.h.upstream.calls.filter((c) => c.method === 'setSchoolTimeZone')).toHaveLength(asked);
  });

  it('lists the live evenings with their held cancellations, and the Run button warns about an evening open today', async () => {
    gw.h.upstream.state.live = [
      {
        id: 'ev1',
        kind: 'parents_evening',
        title: 'Year 11 evening',
        startsAt: null,
        endsAt: null,
        status: 'open',
      },
    ];
    const list = await req('GET', '/api/v1/schools/school-a/evenings');
    expect(list.statusCode).toBe(200);
    expect(list.json()).toMatchObject({
      timeZone: 'Australia/Sydney',
      evenings: [{ event: { id: 'ev1', status: 'open' }, state: 'live', pending: [], familiesAffected: 0 }],
    });
    const run = await gw.h.request(gw.token, 'POST', '/api/v1/schools/school-a/sync-runs', {});
    expect(run.statusCode).toBe(409);
    expect(run.json().error.details.events).toEqual([{ id: 'ev1', title: 'Year 11 evening' }]);
    gw.h.upstream.state.live = [];
  });
});
