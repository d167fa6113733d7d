import { afterEach, describe, expect, it } from 'vitest';
import type { LoggerLike } from '@isams-sync/logger';
import { createMetrics, startOpsServer } from '../src/index';
import type { OpsServer } from '../src/index';

const servers: OpsServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function start(options: Partial<Parameters<typeof startOpsServer>[0]> = {}) {
  const metrics = createMetrics({ service: 'test-svc', collectDefault: false });
  const server = await startOpsServer({ port: 0, host: '127.0.0.1', metrics, ...options });
  servers.push(server);
  return { server, metrics, url: (path: string) => `http://127.0.0.1:${server.port}${path}` };
}

function recordingLogger() {
  const entries: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void entries.push({ level, obj, msg });
  const logger: LoggerLike = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, entries };
}

describe('startOpsServer (real HTTP on port 0)', () => {
  it('binds a free port and serves /metrics from the given registry', async () => {
    const { server, metrics, url } = await start();
    expect(server.port).toBeGreaterThan(0);
    metrics
      .counter({ name: 'events_published_total', help: 'Events', labelNames: ['topic'] })
      .inc({ topic: 'roster' }, 3);
    const res = await fetch(url('/metrics'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe(metrics.contentType);
    expect(await res.text()).toContain('events_published_total{topic="roster",service="test-svc"} 3');
  });

  it('answers /health with 200 {"status":"ok"}', async () => {
    const { url } = await start({ readiness: () => false });
    const res = await fetch(url('/health'));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toContain('application/json');
    expect(await res.json()).toEqual({ status: 'ok' });
  });

  it('answers /ready from the readiness check, async or not, and treats failures as not ready', async () => {
    let ready = false;
    const { logger, entries } = recordingLogger();
    const { url } = await start({ readiness: async () => ready, logger });
    let res = await fetch(url('/ready'));
    expect(res.status).toBe(503);
    expect(await res.json()).toEqual({ status: 'not_ready' });
    ready = true;
    res = await fetch(url('/ready?verbose=1'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ready' });

    const failing = await start({
      readiness: () => {
        throw new Error('mongo down');
      },
      logger,
    });
    res = await fetch(failing.url('/ready'));
    expect(res.status).toBe(503);
    expect(entries.some((e) => e.level === 'warn' && e.msg === 'readiness check failed')).toBe(true);
  });

  it('is ready by default', async () => {
    const { url } = await start();
    expect((await fetch(url('/ready'))).status).toBe(200);
  });

  it('404s unknown paths and 405s other methods', async () => {
    const { url } = await start();
    expect((await fetch(url('/'))).status).toBe(404);
    expect((await fetch(url('/metricsx'))).status).toBe(404);
    const post = await fetch(url('/health'), { method: 'POST' });
    expect(post.status).toBe(405);
    expect(post.headers.get('allow')).toBe('GET, HEAD');
    expect((await fetch(url('/health'), { method: 'HEAD' })).status).toBe(200);
  });

  it('rejects when the port is taken and closes cleanly despite keep-alive connections', async () => {
    const { server, url } = await start();
    await fetch(url('/health'), { keepalive: true });
    const metrics = createMetrics({ service: 'other', collectDefault: false });
    await expect(startOpsServer({ port: server.port, host: '127.0.0.1', metrics })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
    await servers.pop()!.close();
    await expect(fetch(url('/health'))).rejects.toThrow();
  });
});
