import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { useGatewayHarness } from '../support/gateway-harness';
import { receivedFrom } from '../support/upstream-errors';

/**
 * The school's time zone lives in two services: the connector's settings (what the dashboard shows,
 * the e-mails' times) and bookings (which evenings are live today). A save changes both or, refused,
 * neither.
 */
describe('the time zone of a settings save, in the connector and in bookings (real FerretDB, fake upstreams)', () => {
  const gw = useGatewayHarness('school-t');
  const url = '/api/v1/schools/school-t/settings';
  const put = (payload: object) => gw.h.request(gw.token, 'PUT', url, payload);
  const zones = async () => ({
    connector: (await gw.h.request(gw.token, 'GET', url)).json().timeZone as string,
    bookings: (await gw.h.request(gw.token, 'GET', '/api/v1/schools/school-t/evenings')).json()
      .timeZone as string,
  });
  const sentToBookings = () =>
    gw.h.upstream.calls.filter((c) => c.method === 'setSchoolTimeZone').map((c) => c.input);

  it('a save the connector refuses changes neither zone (the auditor’s probe-tz.sh)', async () => {
    const first = await put({
      isamsUrl: 'https://school-t.isams.cloud',
      apiKey: '{11111111-2222-3333-4444-555566667777}',
    });
    expect(first.statusCode).toBe(200);
    const before = await zones();
    expect(before).toEqual({ connector: 'Europe/London', bookings: 'Europe/London' });
    const sent = sentToBookings().length;

    gw.h.connector.failOn.set(
      'putSettings',
      receivedFrom(
        'connector',
        status.INVALID_ARGUMENT,
        'CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS',
        'Changing the iSAMS address requires entering the API key again',
      ),
    );
    const newHost = await put({ timeZone: 'Pacific/Kiritimati', isamsUrl: 'https://other.isams.cloud' });
    expect(newHost.statusCode).toBe(400);
    expect(newHost.json().error.code).toBe('CONNECTOR_KEY_REQUIRED_FOR_NEW_ADDRESS');

    gw.h.connector.failOn.set(
      'putSettings',
      receivedFrom(
        'connector',
        status.INVALID_ARGUMENT,
        'CONNECTOR_INVALID_ARGUMENT',
        'invisible character',
        {
          field: 'apiKey',
          reason: 'contains an invisible character (U+200B)',
        },
      ),
    );
    const zwsp = await put({
      timeZone: 'Pacific/Kiritimati',
      apiKey: 'E7F0CB1D-EF29-46ED-B5EA-F7CEC1B8AC\u200b06',
    });
    expect(zwsp.statusCode).toBe(400);
    expect(zwsp.json().error.details.issues).toEqual([
      { in: 'upstream', path: '/apiKey', message: 'contains an invisible character (U+200B)' },
    ]);

    expect(await zones()).toEqual(before);
    expect(sentToBookings().slice(sent)).toEqual([]);
  });

  it('a zone given as a UTC offset is refused in the documented shape (details.issues, /timeZone) and changes nothing', async () => {
    const before = await zones();
    const sent = sentToBookings().length;
    const offset = await put({ timeZone: '+01:00' });
    expect(offset.statusCode).toBe(400);
    expect(offset.json().error.details).toEqual({
      issues: [{ in: 'upstream', path: '/timeZone', message: expect.stringContaining('+01:00') }],
    });
    expect(await zones()).toEqual(before);
    expect(sentToBookings().slice(sent)).toEqual([]);
  });

  it('bookings gets the zone as the connector saved it (its canonical spelling)', async () => {
    const saved = await put({ timeZone: 'europe/paris' });
    expect(saved.statusCode).toBe(200);
    expect(await zones()).toEqual({ connector: 'Europe/Paris', bookings: 'Europe/Paris' });
  });

  it('bookings unreachable after the connector saved: 503 that says so (not a success), and saving again converges', async () => {
    gw.h.upstream.state.timeZoneFailure = receivedFrom(
      'bookings',
      status.UNAVAILABLE,
      'GRPC_UNAVAILABLE',
      'connect ECONNREFUSED',
    );
    const body = { timeZone: 'Australia/Sydney', scheduleMinutes: 120 };
    const partial = await put(body);
    expect(partial.statusCode).toBe(503);
    expect(partial.json().error).toMatchObject({
      code: 'GATEWAY_TIME_ZONE_NOT_APPLIED',
      details: { upstream: 'bookings', upstreamCode: 'GATEWAY_UPSTREAM_UNAVAILABLE' },
    });
    expect(await zones()).toEqual({ connector: 'Australia/Sydney', bookings: 'Europe/Paris' });
    const audit = (await gw.h.request(gw.token, 'GET', '/api/v1/schools/school-t/audit-log')).json();
    expect(audit.entries[0]).toMatchObject({
      action: 'settings.update',
      outcome: 'failed',
      errorCode: 'GATEWAY_TIME_ZONE_NOT_APPLIED',
    });

    const again = await put(body);
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ timeZone: 'Australia/Sydney', scheduleMinutes: 120 });
    expect(await zones()).toEqual({ connector: 'Australia/Sydney', bookings: 'Australia/Sydney' });
  });

  it('a later save without a zone (a reloaded dashboard sends only what changed) passes the saved zone on; bookings away does not fail it', async () => {
    const away = () =>
      (gw.h.upstream.state.timeZoneFailure = receivedFrom(
        'bookings',
        status.UNAVAILABLE,
        'GRPC_UNAVAILABLE',
        'connect ECONNREFUSED',
      ));
    away();
    expect((await put({ timeZone: 'Asia/Tokyo' })).statusCode).toBe(503);
    // Still away: a save that does not touch the zone is not refused for it.
    away();
    expect((await put({ scheduleMinutes: 90 })).statusCode).toBe(200);
    expect(await zones()).toEqual({ connector: 'Asia/Tokyo', bookings: 'Australia/Sydney' });

    gw.h.upstream.state.timeZoneFailure = undefined;
    expect((await put({ scheduleMinutes: 60 })).statusCode).toBe(200);
    expect(await zones()).toEqual({ connector: 'Asia/Tokyo', bookings: 'Asia/Tokyo' });
  });
});
