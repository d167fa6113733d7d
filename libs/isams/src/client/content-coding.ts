import { Readable, pipeline } from 'node:stream';
import type { Transform } from 'node:stream';
import { createBrotliDecompress, createGunzip, createInflate, createInflateRaw } from 'node:zlib';
import { IsamsError } from '../errors/isams-error';
import { boundText } from '../errors/bound-text';

/**
 * The content codings of a response (`Content-Encoding`), in the order they were applied, without
 * `identity`. The client asks for `identity`, but a server or CDN may compress anyway (RFC 9110
 * §12.5.3 lets it when the request names none, and some ignore the header): gzip, deflate and br
 * are read; any other is refused by name ({@link unreadableCoding}) rather than parsed as text.
 */
export function contentCodings(header: string | string[] | undefined): string[] {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  return value
    .split(',')
    .map((c) => c.trim().toLowerCase())
    .filter((c) => c !== '' && c !== 'identity');
}

const READABLE = new Set(['gzip', 'x-gzip', 'deflate', 'br']);

/**
 * Codings read in a row at most: each is a decoder of its own, and a header can name thousands
 * (curl CVE-2022-32206, urllib3 GHSA-gm62-xv2j-4w53; undici's fetch also stops at 5).
 */
export const MAX_CONTENT_CODINGS = 5;

/**
 * An error naming why `codings` cannot be read, if they cannot: more than
 * {@link MAX_CONTENT_CODINGS} of them, or the first one this client does not read.
 */
export function unreadableCoding(codings: readonly string[]): IsamsError | undefined {
  if (codings.length > MAX_CONTENT_CODINGS)
    return new IsamsError({
      code: 'ISAMS_MALFORMED_DOCUMENT',
      message: `iSAMS sent the document with ${codings.length} content codings in a row (Content-Encoding); SchoolCloud reads at most ${MAX_CONTENT_CODINGS}.`,
      details: { contentCodings: codings.length },
    });
  const unknown = codings.find((c) => !READABLE.has(c));
  if (unknown === undefined) return undefined;
  const coding = boundText(unknown, 40);
  return new IsamsError({
    code: 'ISAMS_MALFORMED_DOCUMENT',
    message: `iSAMS sent the document with Content-Encoding "${coding}", which SchoolCloud cannot read (it reads gzip, deflate and br, and asks for none).`,
    details: { contentEncoding: coding },
  });
}

/** A zlib-wrapped deflate stream starts with a CMF/FLG pair (RFC 1950); servers also send raw deflate. */
const isZlibHeader = (b: Uint8Array): boolean =>
  b.length >= 2 && (b[0]! & 0x0f) === 8 && ((b[0]! << 8) | b[1]!) % 31 === 0;

async function* replay(first: Uint8Array, rest: AsyncIterator<Uint8Array>): AsyncGenerator<Uint8Array> {
  try {
    yield first;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await rest.return?.();
  }
}

/** Undoes one coding; the decoder is chosen on the first bytes (deflate: zlib-wrapped or raw). */
async function* undo(source: AsyncIterable<Uint8Array>, coding: string): AsyncGenerator<Uint8Array> {
  const it = source[Symbol.asyncIterator]();
  const first = await it.next();
  if (first.done) return;
  const decoder: Transform =
    coding === 'br'
      ? createBrotliDecompress()
      : coding === 'deflate'
        ? isZlibHeader(first.value)
          ? createInflate()
          : createInflateRaw()
        : createGunzip();
  // pipeline: an error of the body (a reset, the size limit) reaches the decoder's reader, and a
  // reader that stops early (the parse failed or was cancelled) ends the body's reading too.
  pipeline(Readable.from(replay(first.value, it), { objectMode: false }), decoder, () => undefined);
  try {
    yield* decoder;
  } catch (err) {
    // zlib reads bytes after a gzip member as the next member: a header error when the body began
    // with a good gzip header is such bytes after the compressed data, not a damaged document.
    if (
      (coding === 'gzip' || coding === 'x-gzip') &&
      isGzipHeader(first.value) &&
      GZIP_HEADER_ERROR.test(errorMessage(err))
    )
      throw new IsamsError({
        code: 'ISAMS_MALFORMED_DOCUMENT',
        message: `The iSAMS document sent with Content-Encoding "${coding}" has bytes after its compressed data that are not another gzip member; it was not read.`,
        details: { contentEncoding: coding, reason: 'bytes after the gzip data' },
        adminAction:
          'The server sent the compressed document with extra bytes after it, so SchoolCloud did not read it and changed nothing. Check that the host name points at the iSAMS server (not a proxy that rewrites responses); if it does, contact SchoolCloud support with this message.',
      });
    throw err;
  }
}

/** `source`, failing with ISAMS_RESPONSE_TOO_LARGE once it gave more than `maxBytes`. */
async function* atMost(
  source: AsyncIterable<Uint8Array>,
  maxBytes: number,
  codings: readonly string[],
): AsyncGenerator<Uint8Array> {
  let bytes = 0;
  for await (const chunk of source) {
    bytes += chunk.byteLength;
    if (bytes > maxBytes)
      throw new IsamsError({
        code: 'ISAMS_RESPONSE_TOO_LARGE',
        message: `The iSAMS document, decompressed, is larger than the limit of ${maxBytes} bytes.`,
        details: { maxBytes, contentEncoding: codings.join(', ') },
      });
    yield chunk;
  }
}

/** zlib's errors for bytes that do not start a gzip member. */
const GZIP_HEADER_ERROR = /incorrect header check|unknown compression method|unknown header flags set/i;

/** A gzip member's header (RFC 1952): ID1 ID2, deflate, no reserved flag. */
const isGzipHeader = (b: Uint8Array): boolean =>
  b.length >= 4 && b[0] === 0x1f && b[1] === 0x8b && b[2] === 8 && (b[3]! & 0xe0) === 0;

const errorMessage = (err: unknown): string => String((err as Error | undefined)?.message ?? '');

/**
 * The decoded body of a response sent with `codings` (as {@link contentCodings} gives them, all
 * readable), at most `maxBytes` decoded (a small compressed body can inflate to gigabytes). A body
 * that does not decode is ISAMS_MALFORMED_DOCUMENT, one cut short ISAMS_TRUNCATED_DOCUMENT; the
 * body's own errors pass through unchanged.
 */
export async function* decodeBody(
  body: AsyncIterable<Uint8Array>,
  codings: readonly string[],
  maxBytes: number,
): AsyncGenerator<Uint8Array> {
  // Every step is held to the limit, not only the last: a step may inflate to gigabytes that the
  // next one turns back into a small document (empty deflate blocks), all of it work.
  let decoded: AsyncIterable<Uint8Array> = body;
  for (const coding of [...codings].reverse()) decoded = atMost(undo(decoded, coding), maxBytes, codings);
  try {
    yield* decoded;
  } catch (err) {
    if (err instanceof IsamsError || (err as Error | undefined)?.name === 'AbortError') throw err;
    const message = String((err as Error | undefined)?.message ?? '');
    const coding = codings.join(', ');
    throw /unexpected end/i.test(message)
      ? new IsamsError({
          code: 'ISAMS_TRUNCATED_DOCUMENT',
          message: `The compressed (${coding}) iSAMS document ended early.`,
          details: { contentEncoding: coding },
        })
      : new IsamsError({
          code: 'ISAMS_MALFORMED_DOCUMENT',
          message: `The iSAMS document sent with Content-Encoding "${coding}" could not be decompressed.`,
          details: { contentEncoding: coding, reason: boundText(message, 200) },
        });
  }
}
