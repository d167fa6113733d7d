import { Readable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ISAMS_MESSAGES, renderMessageDocument } from '../../domain/isams-lib';
import type { IsamsMessageSpec } from '../../domain/isams-lib';
import { decideBatch } from '../../domain/batch-decision';
import { malformDocument, truncateDocument } from '../../domain/damage';
import { callerAddress } from '../../domain/key-policy';
import type { SchoolRegistry } from '../../domain/school-registry';
import { renderJson } from '../../domain/json-serializer';
import { renderXml } from '../../domain/xml-serializer';
import type { LayoutModule } from '../../domain/document-layout';

export interface BatchRouteOptions {
  registry: SchoolRegistry;
  trustProxy: boolean;
  internalTimeoutMs: number;
  slowMs: number;
  now: () => number;
}

type Format = 'xml' | 'json';

// ASSUMED ([U] in reference §1.2): Content-Type of success responses; error documents are always
// XML, also on json.ashx ([U] in reference §3).
const CONTENT_TYPE: Record<Format, string> = {
  xml: 'text/xml; charset=utf-8',
  json: 'application/json; charset=utf-8',
};

function apiKeyParam(query: unknown): string | undefined {
  if (!query || typeof query !== 'object') return undefined;
  for (const [name, value] of Object.entries(query as Record<string, unknown>)) {
    // `apiKey` is documented; `apikey` worked for real clients, so match the name case-insensitively.
    if (name.toLowerCase() === 'apikey') {
      const v = Array.isArray(value) ? value[0] : value;
      return typeof v === 'string' && v.trim() !== '' ? v : undefined;
    }
  }
  return undefined;
}

function sendMessage(
  reply: FastifyReply,
  spec: IsamsMessageSpec,
  params: Record<string, string> = {},
): FastifyReply {
  return reply
    .code(spec.httpStatus)
    .header('content-type', 'text/xml; charset=utf-8')
    .send(renderMessageDocument(spec, params));
}

function render(layout: LayoutModule[], format: Format): Generator<string> {
  return format === 'xml' ? renderXml(layout) : renderJson(layout);
}

async function* asBuffers(chunks: Iterable<string>): AsyncGenerator<Buffer> {
  for (const chunk of chunks) {
    yield Buffer.from(chunk, 'utf8');
    // Let the event loop breathe between chunks of a large document.
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
}

/**
 * Close-per-response mode: `Connection: close` on the answer, and no chunked encoding, so a body of
 * unknown length is delimited by the close (HTTP/1.0 semantics); Node closes the socket after it.
 */
function closeAfterResponse(reply: FastifyReply): void {
  reply.header('connection', 'close');
  reply.raw.removeHeader('transfer-encoding');
}

/** Writes part of the body, then destroys the socket mid-response (the `connectionReset` fault). */
async function resetMidBody(reply: FastifyReply, layout: LayoutModule[], format: Format): Promise<void> {
  reply.hijack();
  const raw = reply.raw;
  const body = Buffer.from([...render(layout, format)].join(''), 'utf8');
  raw.writeHead(200, { 'content-type': CONTENT_TYPE[format], 'content-length': String(body.length) });
  raw.write(body.subarray(0, Math.floor(body.length / 2)));
  await sleep(20);
  raw.socket?.resetAndDestroy?.();
  raw.destroy();
}

/** The Batch API endpoints: `GET|POST /api/batch/1.0/{xml,json}.ashx?apiKey=…`. */
export function registerBatchRoutes(app: FastifyInstance, opts: BatchRouteOptions): void {
  app.register(async (scope) => {
    // The server is lenient about request headers (reference §1.2): any Content-Type, raw body.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'string', bodyLimit: 1024 * 1024 }, (_req, body, done) =>
      done(null, body),
    );

    const handler = (format: Format) => async (request: FastifyRequest, reply: FastifyReply) => {
      const rawKey = apiKeyParam(request.query);
      if (!rawKey) return sendMessage(reply, ISAMS_MESSAGES.missingParameter);
      const school = opts.registry.byKey(rawKey);
      if (!school) return sendMessage(reply, ISAMS_MESSAGES.invalidApiKey);
      const forwarded = request.headers['x-forwarded-for'];
      const ip = callerAddress(
        request.socket.remoteAddress ?? '',
        Array.isArray(forwarded) ? forwarded[0] : forwarded,
        opts.trustProxy,
      );
      if (school.server.connection === 'close') closeAfterResponse(reply);
      const outcome = decideBatch(school, {
        body: typeof request.body === 'string' ? request.body : undefined,
        callerIp: ip,
        now: opts.now(),
        internalTimeoutMs: opts.internalTimeoutMs,
        defaultSlowMs: opts.slowMs,
      });
      if (outcome.delayMs > 0) await sleep(outcome.delayMs);
      if (outcome.kind === 'message') return sendMessage(reply, outcome.spec, outcome.params);
      request.log.debug(
        { schoolId: school.schoolId, cacheHit: outcome.cacheHit, damage: outcome.damage },
        'batch document',
      );
      if (outcome.damage === 'connectionReset') return resetMidBody(reply, outcome.layout, format);
      reply.code(200).header('content-type', CONTENT_TYPE[format]);
      if (outcome.damage === 'truncated' || outcome.damage === 'malformed') {
        const full = [...render(outcome.layout, format)].join('');
        const damaged =
          outcome.damage === 'truncated' ? truncateDocument(full, format) : malformDocument(full, format);
        return reply.send(Readable.from(asBuffers([damaged])));
      }
      return reply.send(Readable.from(asBuffers(render(outcome.layout, format))));
    };

    for (const format of ['xml', 'json'] as const) {
      scope.route({
        method: ['GET', 'POST'],
        url: `/api/batch/1.0/${format}.ashx`,
        handler: handler(format),
      });
    }
  });
}
