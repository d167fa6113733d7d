import { randomUUID } from 'node:crypto';

/**
 * A new Kafka cluster id: 16 random bytes in URL-safe base64 without padding. Like Kafka's own
 * `Uuid.randomUuid()`, never one starting with "-" (one in 64 would): `kafka-storage format -t -…`
 * reads it as an option and fails with "--cluster-id: expected one argument".
 */
export function newKafkaClusterId(nextUuid: () => string = randomUUID): string {
  for (;;) {
    const id = Buffer.from(nextUuid().replace(/-/g, ''), 'hex').toString('base64url');
    if (!id.startsWith('-')) return id;
  }
}
