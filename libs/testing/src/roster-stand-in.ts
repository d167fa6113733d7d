import { createGrpcServer, loadProtoPackage, loadServiceKeyring } from '@isams-sync/grpc';
import type { GrpcServerHandle, RosterServiceProtoGrpcType, rosterV1 } from '@isams-sync/grpc';
import { createLogger } from '@isams-sync/logger';
import type { Logger } from '@isams-sync/logger';
import { testServiceIdentityDir } from './service-identity';

/** Options of {@link startRosterStandIn}. */
export interface RosterStandInOptions {
  /** The methods the test needs (a method left out answers UNIMPLEMENTED). */
  readonly implementation: Partial<rosterV1.RosterServiceHandlers>;
  /** The calling services let in (their keys from {@link testServiceIdentityDir}). */
  readonly callers: readonly string[];
  /** Default: a silent logger. */
  readonly logger?: Logger;
}

/**
 * A real in-process RosterService (the roster's proto over real gRPC on a free loopback port, the
 * test service-identity keys) answering with the test's handlers: for tests of the roster's clients.
 */
export function startRosterStandIn(options: RosterStandInOptions): Promise<GrpcServerHandle> {
  const pkg = loadProtoPackage<RosterServiceProtoGrpcType>('isams_sync/roster/v1/roster_service.proto');
  return createGrpcServer({
    logger: options.logger ?? createLogger({ service: 'roster-stand-in', level: 'silent' }),
    port: 0,
    host: '127.0.0.1',
    identity: loadServiceKeyring(testServiceIdentityDir(), 'roster'),
    services: [
      {
        name: 'isams_sync.roster.v1.RosterService',
        definition: pkg.isams_sync.roster.v1.RosterService.service,
        implementation: options.implementation as rosterV1.RosterServiceHandlers,
        callers: { default: options.callers },
      },
    ],
  });
}
