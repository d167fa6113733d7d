import { callMetadata, createGrpcClient, loadProtoPackage, promisifyUnary } from '@isams-sync/grpc';
import type { BookingsServiceProtoGrpcType } from '@isams-sync/grpc';
import { testClientIdentity } from '@isams-sync/testing';

export type BookingsClient = InstanceType<
  BookingsServiceProtoGrpcType['isams_sync']['bookings']['v1']['BookingsService']
>;

/**
 * A BookingsService client for tests on `127.0.0.1:port`, calling as the gateway does;
 * `call(method, request, tenantId)` calls one method as `tenantId`.
 */
export function bookingsClient(port: number) {
  const pkg = loadProtoPackage<BookingsServiceProtoGrpcType>('isams_sync/bookings/v1/bookings_service.proto');
  const client = createGrpcClient(pkg.isams_sync.bookings.v1.BookingsService, `127.0.0.1:${port}`, {
    identity: testClientIdentity('bookings', 'gateway'),
    deadlineMs: 15_000,
  });
  const call = <K extends keyof BookingsClient>(method: K, request: unknown, tenantId: string) =>
    (promisifyUnary(client, method) as (r: unknown, m: unknown) => Promise<unknown>)(
      request,
      callMetadata({ tenantId }),
    );
  return { client, call };
}
