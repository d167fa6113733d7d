// Lists or replays dead-lettered events, for operators (runbook: docs/deploy.md, "Messages in a
// dead-letter topic"). Every service image carries it as dist/dlq/main.js.
//   npm run dlq -- list   --topic roster.changes.v1.dlq [--group bookings] [--from-offset N|P:N,…]
//   npm run dlq -- replay --topic roster.changes.v1.dlq [--group bookings] [--from-offset N|P:N,…] [--dry-run]
// Environment: KAFKA_BROKERS (+ KAFKA_SSL*, KAFKA_SASL_* as for the services), LOG_LEVEL (default warn).
// Exit codes: 0 ok, 1 Kafka error, 2 bad arguments or configuration (a topic that does not exist included).
import { parseArgs } from 'node:util';
import { z } from 'zod';
import { env, loadConfig } from '@isams-sync/config';
import { isAppError } from '@isams-sync/errors';
import { createLogger } from '@isams-sync/logger';
import { listDeadLetters, parseFromOffset, replayDeadLetters } from '../dlq-replay';
import type { DeadLetter, DeadLetterFilter } from '../dlq-replay';
import { createKafkaClient } from '../kafka-client';
import { KafkaErrors } from '../kafka-errors';
import { kafkaClientOptionsFromConfig, kafkaServiceConfig } from '../kafka-service-config';

const USAGE = `usage: dlq list|replay --topic <dlq topic> [--group <consumer group>] [--from-offset <n | partition:offset,…>] [--dry-run]\n  (in a checkout: npm run dlq -- …; in a service image: node dist/dlq/main.js …)`;

const configSchema = z.object({
  ...kafkaServiceConfig,
  KAFKA_CLIENT_ID: z.string().trim().min(1).default('isams-sync-dlq'),
  LOG_LEVEL: env.logLevel().default('warn'),
});

const line = (l: DeadLetter): string =>
  [
    `${l.partition}:${l.offset}`,
    l.failedAt ?? '-',
    l.errorCode ?? '-',
    `${l.originalTopic ?? '?'}[${l.originalPartition ?? '?'}]@${l.originalOffset ?? '?'}`,
    `group=${l.consumerGroup ?? '-'}`,
    `attempts=${l.attempts ?? '-'}`,
    `tenant=${l.tenantId ?? '-'}`,
    l.eventType ?? '-',
    l.eventId ?? '-',
    (l.reason ?? '').slice(0, 200),
  ].join('\t');

async function main(argv: string[]): Promise<number> {
  let command: string | undefined;
  let values: { topic?: string; group?: string; 'from-offset'?: string; 'dry-run'?: boolean };
  let fromOffset: DeadLetterFilter['fromOffset'];
  try {
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        topic: { type: 'string' },
        group: { type: 'string' },
        'from-offset': { type: 'string' },
        'dry-run': { type: 'boolean' },
      },
    });
    [command] = parsed.positionals;
    values = parsed.values;
    if ((command !== 'list' && command !== 'replay') || !values.topic || parsed.positionals.length !== 1)
      throw new Error(USAGE);
    if (!values.topic.endsWith('.dlq'))
      throw new Error(`--topic must be a dead-letter topic (<topic>.dlq), got ${values.topic}`);
    fromOffset = values['from-offset'] === undefined ? undefined : parseFromOffset(values['from-offset']);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  let config;
  try {
    config = loadConfig(configSchema);
  } catch (err) {
    console.error(err instanceof Error ? err.message : String(err));
    return 2;
  }
  const logger = createLogger({ service: 'dlq', level: config.LOG_LEVEL });
  const client = createKafkaClient(kafkaClientOptionsFromConfig(config, { service: 'dlq', logger }));
  const filter: DeadLetterFilter = {
    ...(values.group === undefined ? {} : { group: values.group }),
    ...(fromOffset === undefined ? {} : { fromOffset }),
  };
  try {
    if (command === 'list') {
      const letters = await listDeadLetters(client, values.topic, filter);
      for (const l of letters) console.log(line(l));
      console.log(
        `${letters.length} dead letter(s) in ${values.topic}${values.group ? ` of group ${values.group}` : ''}`,
      );
      return 0;
    }
    if (values['dry-run'] === true) {
      const letters = (await listDeadLetters(client, values.topic, filter)).filter((l) => l.originalTopic);
      for (const l of letters) console.log(line(l));
      console.log(`dry run: ${letters.length} dead letter(s) would be replayed; nothing published`);
      return 0;
    }
    const result = await replayDeadLetters(client, values.topic, {
      ...filter,
      onProgress: (p) =>
        console.log(`replayed ${p.replayed}/${p.total} (to ${p.topic}, up to ${p.lastOffset})`),
    });
    const next = Object.entries(result.nextOffsets)
      .map(([p, o]) => `${p}:${o}`)
      .join(',');
    console.log(
      `${result.replayed} dead letter(s) replayed to their original topics${next ? `; to go on after them next time: --from-offset ${next}` : ''}`,
    );
    for (const l of result.skipped) console.error(`skipped (no x-dlq-original-topic): ${line(l)}`);
    return 0;
  } catch (err) {
    console.error(isAppError(err) ? `${err.code}: ${err.message}` : String(err));
    return KafkaErrors.KAFKA_TOPIC_NOT_FOUND.is(err) ? 2 : 1;
  }
}

process.exitCode = await main(process.argv.slice(2));
