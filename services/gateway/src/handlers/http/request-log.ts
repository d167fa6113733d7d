import { REDACTED } from '@isams-sync/logger';
import type { FastifyRequest } from 'fastify';

// A query parameter name as the API's own (`q`, `pageSize`, `entityType`); anything else may be a
// value sent without `=` (`?Amelia%20Hartley`) and is redacted like one.
const PARAMETER_NAME = /^[A-Za-z][A-Za-z0-9_.-]{0,63}$/;
const MAX_PATH = 512;
const MAX_URL = 1_024;
const MAX_HOST = 300;

const cut = (text: string, max: number): string => (text.length > max ? `${text.slice(0, max)}…` : text);

/**
 * The request target as it is logged: the path, then the names of the query parameters with every
 * value `[REDACTED]` (searches carry people's names and e-mail addresses); no fragment; at most about
 * {@link MAX_URL} characters.
 */
export function loggableUrl(url: string): string {
  const end = url.search(/[?#]/);
  const path = cut(end === -1 ? url : url.slice(0, end), MAX_PATH);
  if (end === -1 || url[end] === '#') return path;
  let logged = path;
  let separator = '?';
  for (const parameter of url
    .slice(end + 1)
    .split('#', 1)[0]!
    .split('&')) {
    if (parameter === '') continue;
    const name = parameter.split('=', 1)[0]!;
    const part = `${separator}${PARAMETER_NAME.test(name) ? name : REDACTED}=${REDACTED}`;
    if (logged.length + part.length > MAX_URL) return `${logged}${separator}…`;
    logged += part;
    separator = '&';
  }
  return logged;
}

/**
 * The `req` serializer of both listeners' loggers, in place of fastify's (which logs the raw URL,
 * query included): fastify merges a logger instance's own serializers over its defaults.
 */
export function serializeRequest(request: FastifyRequest): Record<string, unknown> {
  return {
    method: request.method,
    url: loggableUrl(request.url),
    host: typeof request.host === 'string' ? cut(request.host, MAX_HOST) : undefined,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}
