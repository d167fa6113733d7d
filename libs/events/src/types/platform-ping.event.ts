import { z } from 'zod';
import { defineEventType } from '../define-event-type';

/**
 * Health/test event proving the event pipeline end to end (produce → Kafka → consume). Carries no
 * school data; consumers may ignore it.
 */
export const platformPingV1 = defineEventType({
  type: 'com.schoolcloud.isams-sync.platform.ping.v1',
  source: '/isams-sync/platform',
  description:
    'A health/test event proving the event pipeline end to end; carries no school data. Consumers may ignore it.',
  schema: z
    .object({
      /** Free text identifying the sender, e.g. a service name or test name. */
      message: z.string().min(1).max(200),
      /** Monotonic sequence within the sender, so a test can check order. */
      sequence: z.number().int().nonnegative(),
    })
    .strict(),
});
