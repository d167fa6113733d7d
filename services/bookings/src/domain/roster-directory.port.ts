import type { PersonKind } from './booking-model';

/**
 * What bookings needs to know from the roster: whether a person exists (and is not removed).
 * Implemented over RosterService gRPC (adapters/grpc-clients).
 */
export interface RosterDirectory {
  personExists(tenantId: string, kind: PersonKind, personId: string, signal?: AbortSignal): Promise<boolean>;
}
