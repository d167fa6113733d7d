import { describe, expect, it } from 'vitest';
import { isAppError } from '@isams-sync/errors';
import { register as globalRegistry } from 'prom-client';
import { createMetrics } from '../src/index';

describe('createMetrics', () => {
  it('uses its own registry with a service label on every series, including default metrics', async () => {
    const metrics = createMetrics({ service: 'roster' });
    expect(metrics.registry).not.toBe(globalRegistry);
    const text = await metrics.render();
    expect(text).toMatch(/^process_cpu_user_seconds_total\{service="roster"\} \d/m);
    expect(text).toContain('nodejs_eventloop_lag_seconds{service="roster"}');
    expect(metrics.contentType).toContain('text/plain');
  });

  it('skips default metrics when asked', async () => {
    const metrics = createMetrics({ service: 'x', collectDefault: false });
    metrics.gauge({ name: 'x_up', help: 'up' }).set(1);
    expect(await metrics.render()).toBe('# HELP x_up up\n# TYPE x_up gauge\nx_up{service="x"} 1\n');
  });

  it('returns the same metric for the same name, per registry', async () => {
    const a = createMetrics({ service: 'a', collectDefault: false });
    const b = createMetrics({ service: 'b', collectDefault: false });
    const config = { name: 'sync_runs_total', help: 'Sync runs', labelNames: ['outcome'] as const };
    const counter = a.counter(config);
    expect(a.counter(config)).toBe(counter);
    expect(b.counter(config)).not.toBe(counter);
    counter.inc({ outcome: 'ok' });
    a.counter(config).inc({ outcome: 'ok' });
    expect(await a.render()).toContain('sync_runs_total{outcome="ok",service="a"} 2');

    const histogram = a.histogram({ name: 'fetch_seconds', help: 'Fetch time', buckets: [0.1, 1] });
    expect(a.histogram({ name: 'fetch_seconds', help: 'Fetch time' })).toBe(histogram);
    histogram.observe(0.5);
    expect(await a.render()).toContain('fetch_seconds_bucket{le="1",service="a"} 1');
    expect(a.gauge({ name: 'lag', help: 'lag' })).toBe(a.gauge({ name: 'lag', help: 'lag' }));
  });

  it('refuses to reuse a name for a different metric type', () => {
    const metrics = createMetrics({ service: 's', collectDefault: false });
    metrics.counter({ name: 'things_total', help: 'h' });
    let thrown: unknown;
    try {
      metrics.gauge({ name: 'things_total', help: 'h' });
    } catch (err) {
      thrown = err;
    }
    expect(isAppError(thrown) && thrown.code).toBe('METRICS_TYPE_CONFLICT');
  });
});
