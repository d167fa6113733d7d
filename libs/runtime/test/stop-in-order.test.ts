import { describe, expect, it } from 'vitest';
import { stopInOrder } from '../src/stop-in-order';

function recordingLogger() {
  const warnings: Array<{ part?: unknown; msg: string }> = [];
  const logger = {
    warn: (obj: { part?: unknown }, msg: string) => warnings.push({ part: obj.part, msg }),
    info: () => undefined,
    error: () => undefined,
    debug: () => undefined,
  };
  return { logger: logger as never, warnings };
}

describe('stopInOrder', () => {
  it('stops every part in order even when one fails, and names the one that failed', async () => {
    const stopped: string[] = [];
    const { logger, warnings } = recordingLogger();
    await stopInOrder(logger, [
      ['grpc', () => stopped.push('grpc')],
      [
        'consumer',
        async () => {
          throw new Error('broker gone');
        },
      ],
      ['producer', async () => stopped.push('producer')],
      ['mongo', async () => stopped.push('mongo')],
    ]);
    expect(stopped).toEqual(['grpc', 'producer', 'mongo']);
    expect(warnings).toEqual([{ part: 'consumer', msg: 'a part failed to stop; stopping the rest' }]);
  });

  it('waits for each part before the next', async () => {
    const events: string[] = [];
    const { logger } = recordingLogger();
    await stopInOrder(logger, [
      ['slow', () => new Promise<void>((r) => setTimeout(() => (events.push('slow'), r()), 20))],
      ['next', () => events.push('next')],
    ]);
    expect(events).toEqual(['slow', 'next']);
  });
});
