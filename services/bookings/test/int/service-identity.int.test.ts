import { Metadata, status } from '@grpc/grpc-js';
import { loadProtoPackage } from '@isams-sync/grpc';
import type { BookingsServiceProtoGrpcType } from '@isams-sync/grpc';
import { probeEveryMethod } from '@isams-sync/testing';
import { describe, expect, it } from 'vitest';
import { useHarness } from '../support/harness';

// Issue 15: no BookingsService RPC is served to a caller without a service identity.
describe('bookings: service identity', () => {
  const h = useHarness();

  it('refuses every RPC of a caller without a service identity', async () => {
    const { BookingsService } = loadProtoPackage<BookingsServiceProtoGrpcType>(
      'isams_sync/bookings/v1/bookings_service.proto',
    ).isams_sync.bookings.v1;
    const outcomes = await probeEveryMethod(`127.0.0.1:${h.app.grpcPort}`, BookingsService.service, () => {
      const md = new Metadata();
      md.set('x-tenant-id', 'school-a');
      return md;
    });
    expect(Object.keys(outcomes)).toHaveLength(Object.keys(BookingsService.service).length);
    for (const [method, outcome] of Object.entries(outcomes))
      expect({ method, outcome }).toEqual({ method, outcome: status.UNAUTHENTICATED });
  });
});
