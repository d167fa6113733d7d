import { describe, expect, it } from 'vitest';
import type { LoggerLike } from '@isams-sync/logger';
import { createMetrics, createReadiness, DEPENDENCY_UP_METRIC, readinessFromConfig } from '../src/index';
import type { Readiness } from '../src/index';

function recordingLogger() {
  const entries: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, msg });
  const logger: LoggerLike = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, entries };
}

/** A dependency the test switches between answering, refusing and hanging. */
function fakeDependency(name: string) {
  let mode: 'up' | 'down' | 'hang' = 'up';
  let calls = 0;
  let running = 0;
  let maxRunning = 0;
  const hanging: Array<() => void> = [];
  return {
    check: {
      name,
      probe: async () => {
        calls++;
        running++;
        maxRunning = Math.max(maxRunning, running);
        try {
          if (mode === 'hang') await new Promise<void>((resolve) => hanging.push(resolve));
          if (mode === 'down') throw new Error(`${name} refused`);
          return true;
        } finally {
          running--;
        }
      },
    },
    set: (m: typeof mode) => (mode = m),
    release: () => hanging.splice(0).forEach((r) => r()),
    get calls() {
      return calls;
    },
    get maxRunning() {
      return maxRunning;
    },
  };
}

/** Resolves with the next readiness value the monitor publishes. */
function nextChange(readiness: Readiness): Promise<boolean> {
  return new Promise((resolve) => {
    const off = readiness.subscribe((ready) => {
      off();
      resolve(ready);
    });
  });
}

describe('createReadiness', () => {
  it('is not ready before the first round, ready when every dependency answers', async () => {
    const kafka = fakeDependency('kafka');
    const mongo = fakeDependency('mongo');
    const { logger } = recordingLogger();
    const readiness = createReadiness({
      checks: [kafka.check, mongo.check],
      intervalMs: 50,
      timeoutMs: 1000,
      logger,
    });
    expect(readiness.isReady()).toBe(false);
    const change = nextChange(readiness);
    await readiness.start();
    expect(await change).toBe(true);
    expect(readiness.status()).toEqual({ ready: true, checks: { kafka: true, mongo: true } });
    readiness.stop();
  });

  it('turns not ready while one dependency fails and ready again by itself, logging both changes', async () => {
    const kafka = fakeDependency('kafka');
    const mongo = fakeDependency('mongo');
    const { logger, entries } = recordingLogger();
    const metrics = createMetrics({ service: 'test-svc', collectDefault: false });
    const readiness = createReadiness({
      checks: [kafka.check, mongo.check],
      intervalMs: 20,
      timeoutMs: 1000,
      logger,
      metrics,
    });
    await readiness.start();
    expect(readiness.isReady()).toBe(true);

    kafka.set('down');
    expect(await nextChange(readiness)).toBe(false);
    expect(readiness.status()).toEqual({ ready: false, checks: { kafka: false, mongo: true } });
    const exposition = await metrics.render();
    expect(exposition).toContain(`${DEPENDENCY_UP_METRIC}{dependency="kafka",service="test-svc"} 0`);
    expect(exposition).toContain(`${DEPENDENCY_UP_METRIC}{dependency="mongo",service="test-svc"} 1`);

    kafka.set('up');
    expect(await nextChange(readiness)).toBe(true);
    expect(await metrics.render()).toContain(
      `${DEPENDENCY_UP_METRIC}{dependency="kafka",service="test-svc"} 1`,
    );
    readiness.stop();

    const changes = entries.filter((e) => e.msg?.startsWith('dependency'));
    expect(changes.map((e) => [e.level, e.msg, (e.obj as { dependency: string }).dependency])).toEqual([
      ['warn', 'dependency unreachable: not ready', 'kafka'],
      ['info', 'dependency reachable again', 'kafka'],
    ]);
  });

  it('counts a probe that does not answer in time as not ready, and never runs two probes of one dependency at once', async () => {
    const mongo = fakeDependency('mongo');
    // A second dependency that always answers: its probe count tells how many rounds have run.
    const clock = fakeDependency('clock');
    const { logger, entries } = recordingLogger();
    const readiness = createReadiness({
      checks: [mongo.check, clock.check],
      intervalMs: 10,
      timeoutMs: 30,
      logger,
    });
    await readiness.start();
    mongo.set('hang');
    expect(await nextChange(readiness)).toBe(false);
    // Three more rounds pass while the probe hangs: they wait on the same probe instead of starting more.
    const callsWhileHanging = mongo.calls;
    const roundsBefore = clock.calls;
    await new Promise<void>((resolve) => {
      const poll = setInterval(() => {
        if (clock.calls < roundsBefore + 3) return;
        clearInterval(poll);
        resolve();
      }, 5);
    });
    expect(mongo.calls).toBe(callsWhileHanging);
    expect(mongo.maxRunning).toBe(1);
    expect(readiness.isReady()).toBe(false);
    expect(entries.some((e) => e.msg === 'dependency did not answer in time: not ready')).toBe(true);

    mongo.set('up');
    const back = nextChange(readiness);
    mongo.release();
    expect(await back).toBe(true);
    readiness.stop();
  });

  it('treats a probe answering false as unreachable', async () => {
    const { logger } = recordingLogger();
    const readiness = createReadiness({
      checks: [{ name: 'mongo', probe: async () => false }],
      intervalMs: 1000,
      timeoutMs: 1000,
      logger,
    });
    await readiness.start();
    expect(readiness.status()).toEqual({ ready: false, checks: { mongo: false } });
    readiness.stop();
  });

  it('is not ready after stop, and tells subscribers', async () => {
    const { logger } = recordingLogger();
    const readiness = createReadiness({
      checks: [fakeDependency('kafka').check],
      intervalMs: 1000,
      timeoutMs: 1000,
      logger,
    });
    await readiness.start();
    const change = nextChange(readiness);
    readiness.stop();
    expect(await change).toBe(false);
    expect(readiness.isReady()).toBe(false);
  });

  it('refuses two checks with the same name', () => {
    const { logger } = recordingLogger();
    const check = fakeDependency('kafka').check;
    expect(() => createReadiness({ checks: [check, check], intervalMs: 10, timeoutMs: 10, logger })).toThrow(
      /duplicate check name "kafka"/,
    );
  });

  it('readinessFromConfig probes on the config’s timing: a probe slower than READINESS_TIMEOUT_MS is not ready', async () => {
    const mongo = fakeDependency('mongo');
    mongo.set('hang');
    const { logger, entries } = recordingLogger();
    const readiness = readinessFromConfig(
      { READINESS_INTERVAL_MS: 10, READINESS_TIMEOUT_MS: 20 },
      { checks: [mongo.check], logger },
    );
    await readiness.start();
    readiness.stop();
    mongo.release();
    expect(readiness.isReady()).toBe(false);
    expect(entries.some((e) => e.msg === 'dependency did not answer in time: not ready')).toBe(true);
  });
});
