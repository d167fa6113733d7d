import { createLogger, type Logger } from '@isams-sync/logger';
import { Writable } from 'node:stream';

/** A logger of `service` whose lines are kept, parsed, in `lines` (for assertions on trace fields). */
export function loggerWithLines(service: string): { logger: Logger; lines: Array<Record<string, unknown>> } {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({
    service,
    destination: new Writable({
      write(chunk: Buffer, _e, cb) {
        lines.push(JSON.parse(chunk.toString('utf8')) as Record<string, unknown>);
        cb();
      },
    }),
  });
  return { logger, lines };
}
