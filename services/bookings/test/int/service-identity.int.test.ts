import { loadProtoPackage } from '@isams-sync/grpc';
import type { BookingsServiceProtoGrpcType } from '@isams-sync/grpc';
import { expectEveryMethodUnauthenticated } from '@isams-sync/testing';
import { describe, it } from 'vitest';
import { useHarness } from '../support/harness';

// Issue 15: no BookingsService RPC is served to a caller without a service identity.
describe('bookings: service identity', () => {
  const h = useHarness();

  it('refuses every RPC of a caller without a service identity', async () => {
    const { BookingsService } = loadProtoPackage<BookingsServiceProtoGrpcType>(
      'isams_sync/bookings/v1/bookings_service.proto',
    ).isams_sync.bookings.v1;
    await expectEveryMethodUnauthenticated(
      `127.0.0.1:${h.app.grpcPort}`,
      BookingsService.service,
      'school-a',
    );
  });
});
