import { env, loadConfig } from '@isams-sync/config';
import { TopicNames } from '@isams-sync/events';
import { z } from 'zod';
import { backendServiceConfig, mongoServiceConfig } from '@isams-sync/service-shell';

/** Environment of the bookings service (see docs/configuration.md › bookings and the README). */
export const configSchema = z.object({
  ...backendServiceConfig,
  ROSTER_CHANGES_TOPIC: z.string().trim().min(1).default(TopicNames.rosterChanges),
  BOOKINGS_EVENTS_TOPIC: z.string().trim().min(1).default(TopicNames.bookingsEvents),
  ROSTER_CHANGES_GROUP_ID: z.string().trim().min(1).default('bookings.roster-changes'),
  /** Most roster change events applied together (one bookings lookup per school and batch). */
  ROSTER_CHANGES_BATCH_SIZE: env.int({ min: 1, max: 1000 }).default(200),
  ...mongoServiceConfig('bookings'),
  /** `host:port` of RosterService (people named by a booking must exist there). */
  ROSTER_GRPC_ADDRESS: z
    .string()
    .trim()
    .regex(/^[^\s:]+:\d{1,5}$/, 'expected host:port'),
  ROSTER_GRPC_DEADLINE_MS: env.durationMs().default(3_000),
  /** How often the held cancellations of evenings that have ended are resolved (docs/events.md › bookings). */
  EVENING_SWEEP_INTERVAL_MS: env.durationMs().default(60_000),
  /**
   * Days a processed-event record (the de-duplication of a roster event) is kept: past the roster
   * changes topic's retention (30 days) and its dead-letter topic's (90), so every event Kafka can
   * still deliver finds its record (docs/configuration.md › bookings).
   */
  PROCESSED_EVENTS_RETENTION_DAYS: env.int({ min: 31, max: 3650 }).default(100),
});

export type BookingsConfig = z.infer<typeof configSchema>;

export function loadBookingsConfig(e: Record<string, string | undefined> = process.env): BookingsConfig {
  return loadConfig(configSchema, e);
}
