import type { RawElement } from '@isams-sync/isams';

/**
 * How many element names and attribute names keep their JSON encoding cached. A Batch API document
 * uses a few hundred; past the limit (a hostile document with millions of distinct names) names are
 * encoded each time, so memory stays bounded.
 */
const ENCODED_NAMES_LIMIT = 4096;
/** A writer's buffer at the start, and the most it keeps between blocks (a huge record's is let go). */
const INITIAL_BYTES = 64 * 1024;
const KEPT_BYTES = 4 * 1024 * 1024;

const utf8 = new TextEncoder();
const openings = new Map<string, Uint8Array>();
const attributeKeys = new Map<string, Uint8Array>();
const END_ATTRIBUTES = utf8.encode('}');
const TEXT = utf8.encode(',"text":');
const CHILDREN = utf8.encode(',"children":[');
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COMMA = 0x2c;
const NEWLINE = 0x0a;
const RIGHT_BRACKET = 0x5d;
const RIGHT_BRACE = 0x7d;

/**
 * `make(name)` in UTF-8, from `cache` (which keeps at most {@link ENCODED_NAMES_LIMIT}): the
 * encoding of an element or attribute name, the same text every time it comes.
 */
function encodedName(
  cache: Map<string, Uint8Array>,
  name: string,
  make: (name: string) => string,
): Uint8Array {
  let encoded = cache.get(name);
  if (encoded === undefined) {
    encoded = utf8.encode(make(name));
    if (cache.size < ENCODED_NAMES_LIMIT) cache.set(name, encoded);
  }
  return encoded;
}

/** `{"name":<name>,"attributes":{` for an element name. */
const openingText = (name: string): string => `{"name":${JSON.stringify(name)},"attributes":{`;
/** `<key>:` for an attribute name. */
const keyText = (key: string): string => `${JSON.stringify(key)}:`;

/**
 * The version of the canonical text: part of the reading a document's summary is kept under (the
 * byte-identical skip). The text is pinned byte for byte by its test; a deliberate change bumps this.
 */
export const CANONICAL_JSON_VERSION = 1;

/**
 * Canonical JSON lines of raw records, written straight as UTF-8 into one buffer: keys in a fixed
 * order (`name`, `attributes` sorted by name, `text`, `children`), no whitespace, each line ending
 * with `\n`. The fingerprint of a dataset is sha256 over these lines, so the same data always hashes
 * the same regardless of attribute order in the document. The text is exactly what
 * `JSON.stringify` gives for each name and value (element and attribute names encoded once and
 * reused; a value of printable ASCII is copied byte by byte, any other through `JSON.stringify`),
 * without building a string per record and encoding it again: about half the cost.
 */
export class CanonicalLines {
  private buf = new Uint8Array(INITIAL_BYTES);
  private pos = 0;

  /** Appends `raw`'s line (and its `\n`); returns the line's size in bytes without the `\n`. */
  line(raw: RawElement): number {
    const start = this.pos;
    this.element(raw);
    const size = this.pos - start;
    this.ensure(1);
    this.buf[this.pos++] = NEWLINE;
    return size;
  }

  /** Forgets what was written since the last {@link take} (a block left unfinished by an error). */
  clear(): void {
    this.pos = 0;
  }

  /** Bytes the writer holds on to between blocks (at most 4 MiB once a block is taken). */
  get capacity(): number {
    return this.buf.length;
  }

  /** The lines written since the last call, in a buffer of their own; the writer starts again empty. */
  take(): Uint8Array {
    const lines = this.buf.slice(0, this.pos);
    this.pos = 0;
    if (this.buf.length > KEPT_BYTES) this.buf = new Uint8Array(INITIAL_BYTES);
    return lines;
  }

  private element(raw: RawElement): void {
    this.bytes(encodedName(openings, raw.name, openingText));
    const attributes = raw.attributes;
    const keys = Object.keys(attributes);
    if (keys.length > 1) keys.sort();
    for (let i = 0; i < keys.length; i++) {
      const k = keys[i]!;
      if (i > 0) this.byte(COMMA);
      this.bytes(encodedName(attributeKeys, k, keyText));
      this.string(attributes[k]!);
    }
    this.bytes(END_ATTRIBUTES);
    if (raw.text !== undefined) {
      this.bytes(TEXT);
      this.string(raw.text);
    }
    this.bytes(CHILDREN);
    const children = raw.children;
    for (let i = 0; i < children.length; i++) {
      if (i > 0) this.byte(COMMA);
      this.element(children[i]!);
    }
    this.ensure(2);
    this.buf[this.pos++] = RIGHT_BRACKET;
    this.buf[this.pos++] = RIGHT_BRACE;
  }

  /**
   * A JSON string. Printable ASCII without `"` or `\` is its own JSON text, copied as bytes; anything
   * else (escapes, non-ASCII, surrogates) goes through `JSON.stringify`, whose text has no lone
   * surrogate left, so its UTF-8 is exact.
   */
  private string(s: string): void {
    const len = s.length;
    this.ensure(len + 2);
    const buf = this.buf;
    let p = this.pos;
    buf[p++] = QUOTE;
    for (let i = 0; i < len; i++) {
      const c = s.charCodeAt(i);
      if (c < 0x20 || c >= 0x7f || c === QUOTE || c === BACKSLASH) {
        this.encoded(JSON.stringify(s));
        return;
      }
      buf[p++] = c;
    }
    buf[p++] = QUOTE;
    this.pos = p;
  }

  /** A JSON text in UTF-8 (at most 3 bytes per UTF-16 unit). */
  private encoded(json: string): void {
    this.ensure(json.length * 3);
    this.pos += utf8.encodeInto(json, this.buf.subarray(this.pos)).written;
  }

  /** Short cached encodings: a byte loop beats `set` at these sizes. */
  private bytes(b: Uint8Array): void {
    const n = b.length;
    this.ensure(n);
    const buf = this.buf;
    let p = this.pos;
    for (let i = 0; i < n; i++) buf[p++] = b[i]!;
    this.pos = p;
  }

  private byte(c: number): void {
    this.ensure(1);
    this.buf[this.pos++] = c;
  }

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }
}

const text = new TextDecoder();
/** {@link canonicalRawJson}'s writer: one, not a buffer per record (it runs to its end without yielding). */
const single = new CanonicalLines();

/** One record's canonical JSON as a string (its {@link CanonicalLines} line without the `\n`). */
export function canonicalRawJson(raw: RawElement): string {
  single.clear();
  const size = single.line(raw);
  return text.decode(single.take().subarray(0, size));
}
