import { status } from '@grpc/grpc-js';
import { loadProtoPackage } from '@isams-sync/grpc';
import type { RosterServiceProtoGrpcType } from '@isams-sync/grpc';
import { expectEveryMethodUnauthenticated, uniqueName } from '@isams-sync/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rosterClient } from './support/grpc-client';
import { useStartedRoster } from './support/started-roster';

// Issue 15: no RPC without a service identity; bookings may only ask whether a person exists.

// The started roster's client calls as the gateway.
const roster = useStartedRoster();
let asBookings: ReturnType<typeof rosterClient>;
beforeAll(() => {
  asBookings = rosterClient(roster.app.grpcPort, 'bookings');
});
afterAll(() => asBookings?.close());

const failure = (p: Promise<unknown>) =>
  p.then(
    () => 'served',
    (err: { code: number; errorCode: string }) => ({ code: err.code, errorCode: err.errorCode }),
  );

describe('roster: service identity', () => {
  it('refuses every RPC of a caller without a service identity', async () => {
    const { RosterService } = loadProtoPackage<RosterServiceProtoGrpcType>(
      'isams_sync/roster/v1/roster_service.proto',
    ).isams_sync.roster.v1;
    await expectEveryMethodUnauthenticated(
      `127.0.0.1:${roster.app.grpcPort}`,
      RosterService.service,
      'school-a',
    );
  });

  it('lets bookings call GetEntity only, and the gateway every method', async () => {
    const tenant = uniqueName('school');
    expect(
      await failure(asBookings.call('getEntity')({ entityType: 'pupil', entityId: 'p1' }, tenant)),
    ).toEqual({
      code: status.NOT_FOUND,
      errorCode: 'ROSTER_ENTITY_NOT_FOUND',
    });
    expect(await failure(asBookings.call('listEntities')({ entityType: 'pupil' }, tenant))).toEqual({
      code: status.PERMISSION_DENIED,
      errorCode: 'GRPC_CALLER_NOT_ALLOWED',
    });
    expect(await failure(asBookings.call('getRemovalThresholds')({}, tenant))).toEqual({
      code: status.PERMISSION_DENIED,
      errorCode: 'GRPC_CALLER_NOT_ALLOWED',
    });
    const thresholds = await roster.rpc.call('getRemovalThresholds')({}, tenant);
    expect(thresholds.defaultThreshold).toMatchObject({ percent: expect.any(Number) as number });
  });
});
