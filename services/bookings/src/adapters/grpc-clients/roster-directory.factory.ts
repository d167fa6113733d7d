import type { ProtosDirOptions } from '@isams-sync/grpc';
import type { Logger } from '@isams-sync/logger';
import type { BookingsConfig } from '../../config';
import { BookingsErrors } from '../../domain/bookings-errors';
import type { RosterDirectory } from '../../domain/roster-directory.port';

export interface RosterDirectoryHandle {
  directory: RosterDirectory;
  close(): void;
}

/** The RosterService-backed directory (the roster proto is not in the repo yet: every lookup is UNAVAILABLE). */
export function createRosterDirectory(
  config: BookingsConfig,
  logger: Logger,
  _options: ProtosDirOptions,
): RosterDirectoryHandle {
  logger.warn(
    { address: config.ROSTER_GRPC_ADDRESS },
    'RosterService contract not available yet: bookings cannot check people',
  );
  return {
    directory: {
      personExists: () => Promise.reject(BookingsErrors.BOOKINGS_ROSTER_UNAVAILABLE()),
    },
    close: () => undefined,
  };
}
