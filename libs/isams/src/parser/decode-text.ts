import { TextDecoder } from 'node:util';
import { boundText } from '../errors/bound-text';
import { IsamsError } from '../errors/isams-error';

/** Shared counter so the caller can report how many bytes were read. */
export interface ByteCounter {
  bytes: number;
}

/** A WHATWG encoding name, as `TextDecoder.encoding` gives it (`utf-8`, `utf-16le`, `windows-1252` …). */
type Encoding = string;

/** Bytes of leading UTF-16 whitespace looked at, at most, before the encoding is decided. */
const SNIFF_LIMIT = 4096;
const isSpace = (b: number | undefined): boolean => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;
// `<` starts an XML document, `{` or `[` a JSON one.
const isStart = (b: number | undefined): boolean => b === 0x3c || b === 0x7b || b === 0x5b;

/**
 * BOM-less UTF-16 told by its first character after whitespace (as client/body-format.ts reads a
 * body): code units whose other byte is zero — `\r\0\n\0<\0` is little-endian, `\0 \0{` big-endian.
 * Undefined while only whitespace units were seen and more bytes may come.
 */
function bomlessUtf16(head: Uint8Array, final: boolean): 'utf-8' | 'utf-16le' | 'utf-16be' | undefined {
  for (const [encoding, low] of [
    ['utf-16le', 0],
    ['utf-16be', 1],
  ] as const) {
    let i = 0;
    while (i + 1 < head.length && head[i + 1 - low] === 0x00 && isSpace(head[i + low])) i += 2;
    if (i + 1 < head.length) {
      // `<\0\0\0` is UTF-32 LE, not UTF-16.
      const utf16 =
        head[i + 1 - low] === 0x00 && isStart(head[i + low]) && (low === 1 || head[i + 2] !== 0x00);
      if (utf16) return encoding;
    } else if (i > 0) {
      return final || head.length >= SNIFF_LIMIT ? encoding : undefined;
    }
  }
  return 'utf-8';
}

/**
 * The encoding of the bytes, in this order: a BOM (UTF-8, UTF-16 LE/BE); BOM-less UTF-16 (whitespace,
 * then `<`, `{` or `[`, each with a zero byte); the response's charset (`charset`, already resolved,
 * see {@link resolveCharset}) unless it names UTF-16 over bytes that are not; otherwise UTF-8. The
 * XML declaration is deliberately ignored — iSAMS error documents declare `encoding="utf-16"` while
 * being UTF-8/ASCII. Undefined until enough bytes arrived to tell (`final`: no more will).
 */
function sniff(
  head: Uint8Array,
  charset: Encoding | undefined,
  final = false,
): { encoding: Encoding; skip: number } | undefined {
  if (head.length < 4 && !final) return undefined;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) return { encoding: 'utf-8', skip: 3 };
  if (head[0] === 0xff && head[1] === 0xfe) return { encoding: 'utf-16le', skip: 2 };
  if (head[0] === 0xfe && head[1] === 0xff) return { encoding: 'utf-16be', skip: 2 };
  const encoding = bomlessUtf16(head, final);
  if (encoding === undefined) return undefined;
  // A charset naming UTF-16 over bytes whose `<`, `{` or `[` has no zero byte beside it is false,
  // like the XML declaration's: such text is not UTF-16.
  if (encoding === 'utf-8' && charset !== undefined && !charset.startsWith('utf-16'))
    return { encoding: charset, skip: 0 };
  return { encoding, skip: 0 };
}

/** Labels of US-ASCII (RFC 2046's default text charset) and its IANA aliases. */
const ASCII_LABELS = new Set([
  'us-ascii',
  'ascii',
  'csascii',
  'ansi_x3.4-1968',
  'ansi_x3.4-1986',
  'iso_646.irv:1991',
  'iso-ir-6',
  'iso646-us',
  'us',
  'cp367',
  'ibm367',
]);

/**
 * The encoding a response's charset label names (WHATWG labels, any case: `utf8` is `utf-8`,
 * `latin1` and `iso-8859-1` are `windows-1252` …; an ASCII label is read as UTF-8, its superset).
 * A label no decoder knows — or one WHATWG maps to its "replacement" decoder, which reads everything
 * as U+FFFD — is refused by name: read as UTF-8, its names would come out as U+FFFD or, worse, as
 * other letters.
 */
export function resolveCharset(label: string): Encoding {
  // ASCII is a subset of UTF-8, and WHATWG's windows-1252 for its labels would read a UTF-8 "ë" as
  // "Ã«": a byte over 0x7F proves such a label wrong, and UTF-8 is what iSAMS writes.
  if (ASCII_LABELS.has(label.trim().toLowerCase())) return 'utf-8';
  let encoding: string | undefined;
  try {
    encoding = new TextDecoder(label).encoding;
  } catch {
    encoding = undefined;
  }
  if (encoding !== undefined && encoding !== 'replacement') return encoding;
  const shown = boundText(label, 40);
  return unsupportedCharset(shown);
}

function unsupportedCharset(charset: string): never {
  throw new IsamsError({
    code: 'ISAMS_MALFORMED_DOCUMENT',
    message: `iSAMS sent the document in charset "${charset}" (its Content-Type), which SchoolCloud cannot read.`,
    details: { charset },
    adminAction:
      'The server sent the document in a character set SchoolCloud cannot read, so SchoolCloud did not read it and changed nothing. Check that the host name points at the iSAMS server (not a proxy that rewrites responses); if it does, contact SchoolCloud support with this message.',
  });
}

function tooLarge(maxBytes: number): IsamsError {
  return new IsamsError({
    code: 'ISAMS_RESPONSE_TOO_LARGE',
    message: `The iSAMS document is larger than the limit of ${maxBytes} bytes.`,
    details: { maxBytes },
  });
}

function utf16beToLe(bytes: Uint8Array): Uint8Array {
  const out = new Uint8Array(bytes.length);
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    out[i] = bytes[i + 1]!;
    out[i + 1] = bytes[i]!;
  }
  return out;
}

/**
 * Decodes a byte stream to text chunks (string chunks pass through), counting bytes and enforcing
 * `maxBytes`; `charset` is the label the response's Content-Type names, if any ({@link sniff} says
 * when it counts; one no decoder knows is refused before any byte is read). A leading U+FEFF is
 * dropped from the text either way.
 */
export async function* decodeText(
  input: AsyncIterable<Uint8Array | string>,
  counter: ByteCounter,
  maxBytes?: number,
  charset?: string,
): AsyncGenerator<string> {
  const declared = charset === undefined ? undefined : resolveCharset(charset);
  let decoder: TextDecoder | undefined;
  let bigEndian = false;
  let carry: Uint8Array | undefined; // odd byte of a UTF-16BE pair split across chunks
  let head: Uint8Array | undefined; // first bytes until the BOM can be sniffed
  let first = true;
  const emit = (text: string): string => {
    if (first && text.length > 0) {
      first = false;
      if (text.charCodeAt(0) === 0xfeff) return text.slice(1);
    }
    return text;
  };

  for await (const chunk of input) {
    if (typeof chunk === 'string') {
      counter.bytes += Buffer.byteLength(chunk, 'utf8');
      if (maxBytes !== undefined && counter.bytes > maxBytes) throw tooLarge(maxBytes);
      const text = emit(chunk);
      if (text.length > 0) yield text;
      continue;
    }
    counter.bytes += chunk.byteLength;
    if (maxBytes !== undefined && counter.bytes > maxBytes) throw tooLarge(maxBytes);
    let bytes = chunk;
    if (decoder === undefined) {
      head = head === undefined ? bytes : concat(head, bytes);
      const sniffed = sniff(head, declared);
      if (sniffed === undefined) continue;
      const { encoding, skip } = sniffed;
      bigEndian = encoding === 'utf-16be';
      decoder = new TextDecoder(bigEndian ? 'utf-16le' : encoding, { ignoreBOM: true });
      bytes = head.subarray(skip);
      head = undefined;
    }
    if (bigEndian) {
      if (carry !== undefined) bytes = concat(carry, bytes);
      const even = bytes.length - (bytes.length % 2);
      carry = even < bytes.length ? bytes.slice(even) : undefined;
      bytes = utf16beToLe(bytes.subarray(0, even));
    }
    const text = emit(decoder.decode(bytes, { stream: true }));
    if (text.length > 0) yield text;
  }
  if (decoder === undefined && head !== undefined) {
    const { encoding, skip } = sniff(head, declared, true)!;
    decoder = new TextDecoder(encoding === 'utf-16be' ? 'utf-16le' : encoding, { ignoreBOM: true });
    const rest = encoding === 'utf-16be' ? utf16beToLe(head.subarray(skip)) : head.subarray(skip);
    const text = emit(decoder.decode(rest, { stream: true }));
    if (text.length > 0) yield text;
  }
  if (decoder !== undefined) {
    const tail = emit(decoder.decode());
    if (tail.length > 0) yield tail;
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
