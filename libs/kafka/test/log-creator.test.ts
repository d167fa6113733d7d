import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { logLevel } from 'kafkajs';
import { createLogger } from '@isams-sync/logger';
import { pinoLogCreator } from '../src/kafka-client';

describe('pinoLogCreator', () => {
  it('writes kafkajs log entries into pino with level, namespace and extra fields', () => {
    const lines: Record<string, unknown>[] = [];
    const destination = new Writable({
      write(chunk: Buffer, _enc, cb) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        cb();
      },
    });
    const logger = createLogger({ service: 't', level: 'debug', destination });
    const log = pinoLogCreator(logger)();
    log({
      namespace: 'Connection',
      level: logLevel.ERROR,
      label: 'ERROR',
      log: { timestamp: 'x', logger: 'kafkajs', message: 'Connection error', broker: '127.0.0.1:1' },
    });
    log({
      namespace: 'Consumer',
      level: logLevel.WARN,
      label: 'WARN',
      log: { timestamp: 'x', logger: 'kafkajs', message: 'slow' },
    });
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({
      level: 'error',
      msg: 'Connection error',
      namespace: 'Connection',
      broker: '127.0.0.1:1',
      component: 'kafkajs',
    });
    expect(lines[0]).not.toHaveProperty('timestamp');
    expect(lines[1]).toMatchObject({ level: 'warn', msg: 'slow' });
  });
});
