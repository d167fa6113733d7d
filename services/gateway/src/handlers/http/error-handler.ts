import { AppError, httpStatusFor, isAppError, toPublicError } from '@isams-sync/errors';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors, isResponseSerializationError } from 'fastify-type-provider-zod';
import { GatewayErrors } from '../../domain/gateway-errors';

// HTTP has more precise statuses than the error kinds for these two.
const STATUS_BY_CODE: Record<string, number> = {
  [GatewayErrors.GATEWAY_BODY_TOO_LARGE.code]: 413,
  [GatewayErrors.GATEWAY_UNSUPPORTED_MEDIA_TYPE.code]: 415,
};

/** The HTTP status of any thrown value. */
export function statusOf(err: unknown): number {
  return (isAppError(err) ? STATUS_BY_CODE[err.code] : undefined) ?? httpStatusFor(err);
}

/** Sends the standard error body `{ error: { code, message, details?, requestId } }`. */
export function sendError(
  reply: FastifyReply,
  request: FastifyRequest,
  err: AppError | unknown,
): FastifyReply {
  const status = statusOf(err);
  const body = toPublicError(err);
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
  return undefined;
}

/** Installs the error and not-found handlers: every failure becomes a coded error body. */
export function installErrorHandlers(app: FastifyInstance, bodyLimit: number): void {
  app.setErrorHandler((err: FastifyError, request, reply) => {
    let mapped: unknown = err;
    if (hasZodFastifySchemaValidationErrors(err)) {
      mapped = GatewayErrors.GATEWAY_VALIDATION_FAILED({
        issues: err.validation.map((v) => ({
          in: err.validationContext ?? 'body',
          path: v.instancePath,
          message: v.message ?? 'invalid',
        })),
      });
    } else if (isResponseSerializationError(err)) {
      request.log.error({ err, url: request.routeOptions.url }, 'response failed its schema');
      mapped = new AppError({ code: 'INTERNAL', kind: 'internal', message: 'Internal error', cause: err });
    } else if (!isAppError(err)) {
      mapped = fromFastifyError(err, bodyLimit) ?? err;
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
