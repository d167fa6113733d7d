import { describe, expect, it } from 'vitest';
import type { LoggerLike } from '@isams-sync/logger';
import { boundedLabel, consumerLagSample, createMetrics, startSampler } from '../src/index';

function recordingLogger() {
  const entries: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, msg });
  const logger: LoggerLike = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, entries };
}

const lagLines = async (metrics: ReturnType<typeof createMetrics>) =>
  (await metrics.render()).split('\n').filter((l) => l.startsWith('isams_sync_consumer_lag_messages{'));

describe('startSampler', () => {
  it('takes a first round at once and keeps a failing sample’s gauges at their last value, logging once per streak', async () => {
    const metrics = createMetrics({ service: 'test', collectDefault: false });
    const { logger, entries } = recordingLogger();
    const answers: Array<number | Error> = [7, new Error('broker away'), new Error('broker away'), 3];
    const sampler = startSampler({
      intervalMs: 60_000,
      logger,
      samples: [
        consumerLagSample(metrics, 'roster.raw-datasets', async () => {
          const next = answers.shift()!;
          if (next instanceof Error) throw next;
          return [{ topic: 'isams.raw-datasets.v1', lag: next }];
        }),
      ],
    });
    try {
      await sampler.refresh(); // joins the first round (started at once), never a second one beside it
      const line =
        'isams_sync_consumer_lag_messages{group="roster.raw-datasets",topic="isams.raw-datasets.v1",service="test"}';
      expect(await lagLines(metrics)).toEqual([`${line} 7`]);
      await sampler.refresh();
      await sampler.refresh();
      expect(await lagLines(metrics)).toEqual([`${line} 7`]);
      expect(entries.filter((e) => e.level === 'warn')).toEqual([
        expect.objectContaining({ msg: 'metric sample failed; gauges keep their last value' }),
      ]);
      await sampler.refresh();
      expect(await lagLines(metrics)).toEqual([`${line} 3`]);
      expect(entries.filter((e) => e.level === 'info').map((e) => e.msg)).toEqual([
        'metric sample taken again',
      ]);
      expect(answers).toEqual([]);
    } finally {
      await sampler.stop();
    }
  });

  it('never runs two rounds at once: a refresh during a round joins it', async () => {
    const metrics = createMetrics({ service: 'test', collectDefault: false });
    const { logger } = recordingLogger();
    let calls = 0;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const sampler = startSampler({
      intervalMs: 60_000,
      logger,
      samples: [
        {
          name: 'slow',
          take: async () => {
            calls += 1;
            await gate;
          },
        },
      ],
    });
    const a = sampler.refresh();
    const b = sampler.refresh();
    release();
    await Promise.all([a, b]);
    await sampler.stop();
    expect(calls).toBe(1);
    expect(metrics.registry.getMetricsAsArray()).toEqual([]);
  });

  it('rounds repeat every intervalMs until stopped', async () => {
    const { logger } = recordingLogger();
    let calls = 0;
    const sampler = startSampler({
      intervalMs: 100,
      logger,
      samples: [{ name: 'count', take: async () => void (calls += 1) }],
    });
    while (calls < 3) await new Promise((r) => setTimeout(r, 20));
    await sampler.stop();
    const after = calls;
    await new Promise((r) => setTimeout(r, 100));
    expect(calls).toBe(after);
  });
  it('refuses an interval below 100 ms (an unset interval would spin)', () => {
    const { logger } = recordingLogger();
    expect(() => startSampler({ intervalMs: Number.NaN, logger, samples: [] })).toThrow(/at least 100/);
    expect(() => startSampler({ intervalMs: 5, logger, samples: [] })).toThrow(/at least 100/);
  });
});

describe('boundedLabel', () => {
  const known = new Set(['ISAMS_INVALID_KEY', 'pupils']);
  it('keeps a known value and turns anything else into other', () => {
    expect(boundedLabel('ISAMS_INVALID_KEY', known)).toBe('ISAMS_INVALID_KEY');
    expect(boundedLabel('school-1234', known)).toBe('other');
    expect(boundedLabel(undefined, known)).toBe('other');
    expect(boundedLabel('/api/v1/schools/x', known, 'unmatched')).toBe('unmatched');
  });
});
