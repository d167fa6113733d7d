import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import { httpStatusFor, isAppError, toPublicError } from '@isams-sync/errors';
import type { AppError } from '@isams-sync/errors';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { GatewayErrors, fromDatabaseError, internalError } from '../../domain/gateway-errors';
import { validationFailed } from '../../domain/validation-issues';

// HTTP has more precise statuses than the error kinds for these.
const STATUS_BY_CODE: Record<string, number> = {
  [GatewayErrors.GATEWAY_BODY_TOO_LARGE.code]: 413,
  [GatewayErrors.GATEWAY_UNSUPPORTED_MEDIA_TYPE.code]: 415,
  [GatewayErrors.GATEWAY_METHOD_NOT_ALLOWED.code]: 405,
  [GatewayErrors.GATEWAY_HEADERS_TOO_LARGE.code]: 431,
  [GatewayErrors.GATEWAY_REQUEST_TIMEOUT.code]: 408,
};

const METHODS = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'];

/** The HTTP status of any thrown value. */
export function statusOf(err: unknown): number {
  return (isAppError(err) ? STATUS_BY_CODE[err.code] : undefined) ?? httpStatusFor(err);
}

/** `details.retryAfterSeconds` of an error (e.g. an upstream's RESOURCE_EXHAUSTED), if it has one. */
function retryAfterSeconds(err: unknown): number | undefined {
  const value = isAppError(err) ? err.details?.retryAfterSeconds : undefined;
  return typeof value === 'number' && Number.isFinite(value) && value > 0 ? Math.ceil(value) : undefined;
}

/**
 * Sends the standard error body `{ error: { code, message, details?, requestId } }`; a 429 whose
 * error says when to retry (`details.retryAfterSeconds`) also gets `Retry-After`.
 */
export function sendError(
  reply: FastifyReply,
  request: FastifyRequest,
  err: AppError | unknown,
): FastifyReply {
  const status = statusOf(err);
  const body = toPublicError(err);
  const retryAfter = status === 429 ? retryAfterSeconds(err) : undefined;
  if (retryAfter !== undefined && !reply.hasHeader('retry-after'))
    reply.header('retry-after', String(retryAfter));
  return reply
    .code(status)
    .type('application/json; charset=utf-8')
    .send({ error: { ...body, requestId: request.id } });
}

function fromFastifyError(err: FastifyError, bodyLimit: number): AppError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return GatewayErrors.GATEWAY_BODY_TOO_LARGE({ limitBytes: bodyLimit });
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return GatewayErrors.GATEWAY_MALFORMED_BODY();
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
    case 'FST_ERR_CTP_INVALID_TYPE':
      return GatewayErrors.GATEWAY_UNSUPPORTED_MEDIA_TYPE();
    default:
      break;
  }
  // fastify's own JSON parser reports a syntax error as a 400 SyntaxError.
  if (err instanceof SyntaxError && err.statusCode === 400) return GatewayErrors.GATEWAY_MALFORMED_BODY();
  // Any other client error fastify raises (e.g. a body-carrying method without Content-Type) is the
  // caller's, never a 500.
  if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500)
    return GatewayErrors.GATEWAY_BAD_REQUEST({ fastifyCode: err.code });
  return undefined;
}

/**
 * fastify's `frameworkErrors`: errors the router raises before any hook runs (a path parameter
 * longer than `maxParamLength`, a malformed percent-encoding) answered in the error model as 400.
 */
export function frameworkErrorHandler(err: FastifyError, request: FastifyRequest, reply: FastifyReply): void {
  reply.header('x-request-id', request.id);
  void sendError(
    reply,
    request,
    validationFailed([
      {
        in: 'path',
        path: '',
        message:
          err.code === 'FST_ERR_BAD_URL'
            ? 'malformed URL encoding'
            : err.code === 'FST_ERR_MAX_PARAM_LENGTH'
              ? 'path parameter too long'
              : 'the URL cannot be routed',
      },
    ]),
  );
}

/** What Node's HTTP parser refused, as a catalogue error. */
function fromClientError(err: NodeJS.ErrnoException): AppError {
  switch (err.code) {
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return GatewayErrors.GATEWAY_REQUEST_TIMEOUT();
    case 'HPE_HEADER_OVERFLOW':
      return GatewayErrors.GATEWAY_HEADERS_TOO_LARGE();
    default:
      return GatewayErrors.GATEWAY_MALFORMED_REQUEST();
  }
}

/**
 * fastify's `clientErrorHandler`: a request Node's HTTP parser refuses (headers too large, conflicting
 * or malformed framing, headers or body too slow) never reaches fastify, so it is answered here, in
 * the error model with a fresh request id, and the connection closed. As fastify's default: nothing
 * on a reset or destroyed socket, nothing written to a socket that is not writable or whose current
 * response has started (that would corrupt it; Node's own default checks the same).
 */
export function clientErrorHandler(this: FastifyInstance, err: NodeJS.ErrnoException, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error = fromClientError(err);
  const requestId = randomUUID();
  // `err` is not logged: its rawPacket holds the request's bytes, credentials included.
  this.log.info(
    { reqId: requestId, code: error.code, parserCode: err.code },
    'request refused by the HTTP parser',
  );
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && inFlight?.headersSent !== true) {
    const status = statusOf(error);
    const body = JSON.stringify({ error: { ...toPublicError(error), requestId } });
    socket.write(
      [
        `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
        'content-type: application/json; charset=utf-8',
        `content-length: ${Buffer.byteLength(body)}`,
        `x-request-id: ${requestId}`,
        'x-content-type-options: nosniff',
        'cache-control: no-store',
        'connection: close',
        '',
        body,
      ].join('\r\n'),
    );
  }
  socket.destroy(err);
}

/** Installs the error and not-found handlers: every failure becomes a coded error body. */
export function installErrorHandlers(app: FastifyInstance, bodyLimit: number): void {
  // A path that exists with other methods is a 405 with Allow, not a 404 (and not a 500 when the
  // method is one that carries a body, like QUERY).
  app.addHook('onRequest', async (request, reply) => {
    if (!request.is404) return;
    const url = request.url.split('?')[0]!;
    const allowed = METHODS.filter((method) => app.findRoute({ method: method as 'GET', url }) !== null);
    if (allowed.length === 0) return;
    reply.header('allow', allowed.join(', '));
    throw GatewayErrors.GATEWAY_METHOD_NOT_ALLOWED({ method: request.method, allowed });
  });
  app.setErrorHandler((err: FastifyError, request, reply) => {
    let mapped: unknown = err;
    if (hasZodFastifySchemaValidationErrors(err)) {
      mapped = validationFailed(
        err.validation.map((v) => ({
          in: err.validationContext ?? 'body',
          path: v.instancePath,
          message: v.message ?? 'invalid',
        })),
      );
    } else if (isResponseSerializationError(err)) {
      request.log.error({ err, url: request.routeOptions.url }, 'response failed its schema');
      mapped = internalError(err);
    } else if (!isAppError(err)) {
      mapped = fromFastifyError(err, bodyLimit) ?? err;
    } else {
      // The gateway's own store (admin tokens, audit log).
      mapped = fromDatabaseError(err, 'database') ?? err;
    }
    const status = statusOf(mapped);
    if (status >= 500) request.log.error({ err }, 'request failed');
    else request.log.info({ code: isAppError(mapped) ? mapped.code : 'UNKNOWN', status }, 'request rejected');
    return sendError(reply, request, mapped);
  });
  app.setNotFoundHandler((request, reply) =>
    sendError(
      reply,
      request,
      GatewayErrors.GATEWAY_ROUTE_NOT_FOUND({ method: request.method, url: request.url.split('?')[0]! }),
    ),
  );
}
