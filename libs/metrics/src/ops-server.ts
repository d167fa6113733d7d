import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LoggerLike } from '@isams-sync/logger';
import type { Metrics } from './create-metrics';

/** Options of {@link startOpsServer}. */
export interface OpsServerOptions {
  /** Port to listen on; 0 picks a free port (see the returned `port`). */
  port: number;
  /** Interface to bind; default `0.0.0.0` (reachable by probes and Prometheus in a container). */
  host?: string;
  /** Whose registry `/metrics` serves. */
  metrics: Metrics;
  /** Readiness check for `/ready`; default always ready. A throw or rejection counts as not ready. */
  readiness?: () => Promise<boolean> | boolean;
  /** Where failures of `/metrics` and `/ready` are logged. */
  logger?: LoggerLike;
}

/** A running ops server. */
export interface OpsServer {
  /** The bound port (the real one when 0 was requested). */
  readonly port: number;
  /** Stops listening and closes open (keep-alive) connections. */
  close(): Promise<void>;
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}

const ROUTES = new Set(['/metrics', '/health', '/ready']);

/**
 * Starts the tiny HTTP server every service runs beside its main listener (gRPC-only services too):
 * - `GET /metrics` — Prometheus exposition of `metrics.registry`;
 * - `GET /health` — liveness, always `200 {"status":"ok"}` while the process serves requests;
 * - `GET /ready` — `200 {"status":"ready"}` or `503 {"status":"not_ready"}` from `readiness()`;
 * - other paths `404`, other methods on these paths `405`. `HEAD` is answered like `GET`.
 *
 * @example
 * ```ts
 * const ops = await startOpsServer({ port: config.OPS_PORT, metrics, logger, readiness: () => consumer.isRunning() });
 * // on shutdown
 * await ops.close();
 * ```
 */
export async function startOpsServer(opts: OpsServerOptions): Promise<OpsServer> {
  const readiness = opts.readiness ?? (() => true);

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0]!;
    if (!ROUTES.has(path)) return sendJson(res, 404, { status: 'not_found' });
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('allow', 'GET, HEAD');
      return sendJson(res, 405, { status: 'method_not_allowed' });
    }
    if (path === '/health') return sendJson(res, 200, { status: 'ok' });
    if (path === '/ready') {
      let ready = false;
      try {
        ready = await readiness();
      } catch (err) {
        opts.logger?.warn({ err }, 'readiness check failed');
      }
      return sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready' });
    }
    try {
      const body = await opts.metrics.render();
      res.writeHead(200, {
        'content-type': opts.metrics.contentType,
        'content-length': Buffer.byteLength(body),
      });
      res.end(body);
    } catch (err) {
      opts.logger?.error({ err }, 'rendering metrics failed');
      sendJson(res, 500, { status: 'error' });
    }
  }

  const server = createServer((req, res) => {
    void handle(req, res);
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '0.0.0.0', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  opts.logger?.info({ port }, 'ops server listening');

  return {
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
