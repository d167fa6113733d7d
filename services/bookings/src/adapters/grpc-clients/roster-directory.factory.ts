import {
  callMetadata,
  createGrpcClient,
  GrpcCallError,
  loadProtoPackage,
  promisifyUnary,
} from '@isams-sync/grpc';
import type { ProtosDirOptions, RosterServiceProtoGrpcType, ServiceKeyring } from '@isams-sync/grpc';
import { GrpcStatus } from '@isams-sync/errors';
import type { Logger } from '@isams-sync/logger';
import type { BookingsConfig } from '../../config';
import type { PersonKind } from '../../domain/booking-model';
import { BookingsErrors } from '../../domain/bookings-errors';
import type { RosterDirectory } from '../../domain/roster-directory.port';

export interface RosterDirectoryHandle {
  directory: RosterDirectory;
  close(): void;
}

/**
 * {@link RosterDirectory} over RosterService `GetEntity`: a person exists when the roster returns
 * them with status `active` (a removed person — even within the grace period — cannot be booked).
 * NOT_FOUND → false; any other failure → `BOOKINGS_ROSTER_UNAVAILABLE` (never "unknown person").
 */
export function createGrpcRosterDirectory(
  address: string,
  options: ProtosDirOptions & { identity: ServiceKeyring; deadlineMs?: number; logger?: Logger },
): RosterDirectoryHandle {
  const pkg = loadProtoPackage<RosterServiceProtoGrpcType>(
    'isams_sync/roster/v1/roster_service.proto',
    options.protosDir ? { protosDir: options.protosDir } : {},
  );
  const client = createGrpcClient(pkg.isams_sync.roster.v1.RosterService, address, {
    identity: { keyring: options.identity, audience: 'roster' },
    deadlineMs: options.deadlineMs ?? 3_000,
    idempotentMethods: ['GetEntity'],
    maxAttempts: 3,
    ...(options.logger ? { logger: options.logger } : {}),
  });
  const getEntity = promisifyUnary(client, 'GetEntity');
  return {
    directory: {
      async personExists(
        tenantId: string,
        kind: PersonKind,
        personId: string,
        signal?: AbortSignal,
      ): Promise<boolean> {
        try {
          const entity = await getEntity(
            { entityType: kind, entityId: personId },
            callMetadata({ tenantId }),
            signal ? { signal } : {},
          );
          return entity.status === 'active';
        } catch (err) {
          if (err instanceof GrpcCallError && err.code === GrpcStatus.NOT_FOUND) return false;
          throw BookingsErrors.BOOKINGS_ROSTER_UNAVAILABLE(undefined, { cause: err });
        }
      },
    },
    close: () => client.close(),
  };
}

/** The directory the app uses: RosterService at `ROSTER_GRPC_ADDRESS`. */
export function createRosterDirectory(
  config: BookingsConfig,
  logger: Logger,
  options: ProtosDirOptions & { identity: ServiceKeyring },
): RosterDirectoryHandle {
  return createGrpcRosterDirectory(config.ROSTER_GRPC_ADDRESS, {
    ...options,
    deadlineMs: config.ROSTER_GRPC_DEADLINE_MS,
    logger,
  });
}
