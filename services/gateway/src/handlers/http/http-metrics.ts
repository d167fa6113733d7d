import { boundedLabel } from '@isams-sync/metrics';
import type { Metrics } from '@isams-sync/metrics';
import type { FastifyInstance } from 'fastify';

const METHODS: ReadonlySet<string> = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);
/** Seconds; SSE streams (minutes to hours) land in +Inf. */
const BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/**
 * Request rate, errors and duration (RED) of one listener: `gateway_http_requests_total{listener,
 * method, route, status_code}` and `gateway_http_request_duration_seconds{listener, method, route}`.
 * `route` is the matched route's template (`/api/v1/schools/:schoolId/sync-runs` — Fastify's
 * `routeOptions.url`), never the requested URL, and `unmatched` when no route matched (404s of
 * unknown paths), so no school id, token or query string becomes a label value; methods outside the
 * common set are `other`. Registered before the routes, so every route of the listener is counted.
 */
export function installHttpMetrics(
  app: FastifyInstance,
  metrics: Metrics,
  listener: 'public' | 'operator',
): void {
  const requests = metrics.counter<'listener' | 'method' | 'route' | 'status_code'>({
    name: 'gateway_http_requests_total',
    help: 'HTTP requests answered, by listener, method, route template and status code',
    labelNames: ['listener', 'method', 'route', 'status_code'],
  });
  const duration = metrics.histogram<'listener' | 'method' | 'route'>({
    name: 'gateway_http_request_duration_seconds',
    help: 'Time from receiving an HTTP request to the end of its response, by listener, method and route template',
    labelNames: ['listener', 'method', 'route'],
    buckets: BUCKETS,
  });
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const method = boundedLabel(request.method, METHODS);
    requests.inc({ listener, method, route, status_code: String(reply.statusCode) });
    duration.observe({ listener, method, route }, reply.elapsedTime / 1000);
  });
}
