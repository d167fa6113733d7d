import type { DatasetId } from '../datasets';
import { classifyMessage } from '../errors/classify-message';
import { IsamsError } from '../errors/isams-error';
import type { RawElement } from '../raw-element';
import type { DocumentSink } from './document-sink';
import { isRowName, textWhereRowsBelong } from './document-sink';
import { jsonToRaw, jsonToRawExact } from './json-to-raw';
import type { JsonValue } from './json-to-raw';
import { NODE_OVERHEAD, documentTooDeep, recordTooLarge } from './limits';
import type { ParserLimits } from './parse-events';

/** Input is scanned in pieces of at most this many characters, so limits are checked often. */
const PIECE_CHARS = 64 * 1024;

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const LEFT_BRACE = 0x7b;
const RIGHT_BRACE = 0x7d;
const LEFT_BRACKET = 0x5b;
const RIGHT_BRACKET = 0x5d;
const COLON = 0x3a;
const COMMA = 0x2c;

const NUMBER = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?$/;

type Role =
  | 'root'
  | 'isams'
  | 'moduleList'
  | 'module'
  | 'containerList'
  | 'container'
  | 'rowList'
  /** The list under a key of a container that is not its row name: each item is an element that is not a row. */
  | 'otherList'
  /** Json.NET's list of an element's text pieces (`"#text": ["junk", "x"]`) in a dataset's container. */
  | 'containerText'
  | 'skip';

/** An object or array of the document's envelope (everything above and around the rows). */
interface Frame {
  role: Role;
  kind: 'object' | 'array';
  /** The property name this value was found under (for lists: the name of their items). */
  name: string;
  /** Where the envelope's grammar is inside this object/array. */
  state: 'key' | 'colon' | 'value' | 'comma';
  /** Pending property key inside an object. */
  key: string;
  /** A comma is waiting for the next value (so `[1,]` and `{"a":1,}` are refused). */
  afterComma: boolean;
  dataset?: DatasetId;
  module?: string;
  /** For an `otherList` or a `containerText`: the container it is in. */
  container?: string;
}

/**
 * A row (or an error `Message`) whose text is being collected, to be parsed whole by `JSON.parse`.
 * One object, reused for every row.
 */
interface Capture {
  active: boolean;
  /** Property name the value was found under. */
  name: string;
  /** Character offset of its first character in the document. */
  start: number;
  /** Its text from earlier pieces, and their total length. */
  parts: string[];
  length: number;
  /** Nesting inside the value: the open brackets (their character codes), and the depth allowed. */
  depth: number;
  maxDepth: number;
  /** A number token was seen (then the value is parsed keeping numbers as their source text). */
  hasNumber: boolean;
  /** What the value is: a row of `dataset`, the root's error `Message`, or a `Message` inside `iSAMS`. */
  target: 'record' | 'message' | 'isamsMessage';
  dataset: DatasetId | undefined;
}

/** A string or literal (`true`, `12`, …) of the envelope that spans pieces. */
interface PendingToken {
  kind: 'string' | 'literal';
  start: number;
  parts: string[];
  length: number;
}

function malformed(reason: string, position?: number): IsamsError {
  const at = position === undefined ? '' : ` at character ${position}`;
  return new IsamsError({
    code: 'ISAMS_MALFORMED_DOCUMENT',
    message: `The iSAMS document is not well-formed JSON: ${reason}${at}`,
    details: position === undefined ? { reason } : { reason, position },
  });
}

/**
 * The body is JSON but not a Batch API document: no `iSAMS` object at its root (`{}`, an ASP.NET or
 * OAuth error object, `"iSAMS"` as an array or text). Worded and coded as the XML reader refuses a
 * root element other than `<iSAMS>` or `<Message>`.
 */
function notIsamsDocument(reason: string): IsamsError {
  return new IsamsError({
    code: 'ISAMS_MALFORMED_DOCUMENT',
    message: `The response is not an iSAMS Batch API document (${reason}).`,
    details: { reason },
  });
}

/** Json.NET's keys for an element's text (`#text`) and CDATA (`#cdata-section`). */
const TEXT_KEYS = new Set(['#text', '#cdata-section']);
/** Json.NET's empty element: `null`, or text that is only white space. */
const isBlank = (value: JsonValue): boolean =>
  value === null || (typeof value === 'string' && value.trim().length === 0);
const isMeta = (key: string): boolean => key.startsWith('@') || key.startsWith('#') || key.startsWith('?');

/** `JSON.parse` reviver keeping every number as its source text, so ids never lose precision. */
function numbersAsText(this: unknown, _key: string, value: unknown, context?: { source?: string }): unknown {
  return typeof value === 'number' ? (context?.source ?? String(value)) : value;
}

/**
 * `JSON.parse` of one value whose first character is at `start` in the document; a syntax error
 * becomes ISAMS_MALFORMED_DOCUMENT at the document position V8 names.
 */
function parseValue(text: string, start: number, keepNumbers: boolean): JsonValue {
  try {
    return (
      keepNumbers
        ? JSON.parse(text, numbersAsText as (this: unknown, key: string, value: unknown) => unknown)
        : JSON.parse(text)
    ) as JsonValue;
  } catch (err) {
    // V8 names the position for most errors; "Unexpected token" quotes the text instead, which
    // must not reach an error (it is the school's data): only the token character is kept.
    const message = String((err as Error).message);
    const at = /^(.{1,120}?) in JSON at position (\d+)/s.exec(message);
    if (at !== null) throw malformed(at[1]!, start + Number(at[2]));
    const token = /^Unexpected token '(.)'/s.exec(message);
    throw malformed(
      token === null
        ? 'not valid JSON in the value that starts'
        : `unexpected '${token[1]!}' in the value that starts`,
      start,
    );
  }
}

/** The size a value counts towards {@link ParserLimits.maxRecordBytes} (names and values, 16 more per value). */
function measure(key: string, value: JsonValue): number {
  let size = key.length + NODE_OVERHEAD;
  if (value === null) return size + 4;
  if (typeof value !== 'object') return size + String(value).length;
  if (Array.isArray(value)) {
    for (const item of value) size += measure(key, item);
    return size;
  }
  for (const k in value) size += measure(k, value[k]!);
  return size;
}

/** The smaller of two indexes where -1 means none. */
const earliest = (a: number, b: number): number => (a === -1 || (b !== -1 && b < a) ? b : a);

/**
 * Push-based reader of the `json.ashx` document. A small scanner walks the envelope (root →
 * module → container → row list) and checks its grammar; each row's text is collected and handed
 * whole to V8's `JSON.parse`, which checks the row's grammar and builds it natively, then it is
 * mapped back to {@link RawElement} with the Json.NET conventions. Holds at most one row in memory.
 *
 * Memory is bounded by the {@link ParserLimits}: the nesting depth (the envelope's frames plus the
 * row's brackets), the text of the row being collected and its parsed size, and the text of one
 * envelope string or literal, which stops a single huge value wherever it is.
 */
export class JsonReader {
  private readonly stack: Frame[] = [];
  private done = false;
  private started = false;
  private failure: unknown;
  private message: JsonValue | undefined;
  /** The root has an `iSAMS` object (or `null`/blank, Json.NET's `<iSAMS/>`). */
  private isams = false;
  /** The root has a `Message` that is not an object: a web server's error, not iSAMS's message. */
  private messageText = false;
  /** Characters scanned before the current piece. */
  private base = 0;
  /** Inside a string: the last character seen was an unescaped backslash. */
  private escapePending = false;
  private inString = false;
  private readonly capture: Capture = {
    active: false,
    name: '',
    start: 0,
    parts: [],
    length: 0,
    depth: 0,
    maxDepth: 0,
    hasNumber: false,
    target: 'record',
    dataset: undefined,
  };
  /** Open brackets of the captured row (one entry per level, reused). */
  private readonly brackets: Uint8Array;
  private pending: PendingToken | undefined;
  /** {@link quickCapture} may be tried in this piece (it has not missed in it yet). */
  private quick = true;
  /** Where the next `{`, `[`, `}` and `]` of the piece are (-1: none left; below the scan position: not searched yet). */
  private nextBrace = 0;
  private nextBracket = 0;
  private nextCloseBrace = 0;
  private nextCloseBracket = 0;

  constructor(
    private readonly sink: DocumentSink,
    private readonly limits: ParserLimits,
  ) {
    this.brackets = new Uint8Array(limits.maxDepth + 1);
  }

  write(text: string): void {
    if (this.failure !== undefined) throw this.failure;
    try {
      for (let i = 0; i < text.length; i += PIECE_CHARS) {
        const piece = text.length <= PIECE_CHARS ? text : text.slice(i, i + PIECE_CHARS);
        this.scan(piece);
        this.base += piece.length;
      }
    } catch (err) {
      this.failure = err instanceof IsamsError ? err : malformed(String((err as Error).message));
      throw this.failure;
    }
  }

  end(): void {
    if (this.failure !== undefined) throw this.failure;
    if (this.pending?.kind === 'literal' && this.stack.length === 0) {
      // A bare literal as the whole document.
      throw malformed('the document is not a JSON object', this.pending.start);
    }
    if (!this.done) {
      throw new IsamsError({
        code: 'ISAMS_TRUNCATED_DOCUMENT',
        message: this.started ? 'The iSAMS document ended early.' : 'The iSAMS response is empty.',
      });
    }
    if (this.message !== undefined) throw this.messageError(this.message);
  }

  /** Scans one piece: resumes a capture or a pending token, then walks the envelope. */
  private scan(text: string): void {
    let i = 0;
    this.quick = true;
    this.nextBrace = this.nextBracket = this.nextCloseBrace = this.nextCloseBracket = 0;
    if (this.capture.active) i = this.continueCapture(text, 0);
    else if (this.pending !== undefined) i = this.continuePending(text);
    const len = text.length;
    while (i < len) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) {
        i++;
        continue;
      }
      const at = this.base + i;
      if (this.done) throw malformed('data after the end of the document', at);
      this.started = true;
      switch (c) {
        case LEFT_BRACE:
        case LEFT_BRACKET:
          if (this.open(c === LEFT_BRACE ? 'object' : 'array', at)) {
            const end = this.quickCapture(text, i);
            if (end !== -1) i = end;
            else {
              this.brackets[0] = c;
              i = this.continueCapture(text, i + 1, i);
            }
          } else i++;
          break;
        case RIGHT_BRACE:
        case RIGHT_BRACKET:
          this.close(c === RIGHT_BRACE ? 'object' : 'array', at);
          i++;
          break;
        case COLON: {
          const top = this.stack[this.stack.length - 1];
          if (top?.kind !== 'object' || top.state !== 'colon') throw malformed("unexpected ':'", at);
          top.state = 'value';
          i++;
          break;
        }
        case COMMA: {
          const top = this.stack[this.stack.length - 1];
          if (top === undefined || top.state !== 'comma') throw malformed("unexpected ','", at);
          top.state = top.kind === 'object' ? 'key' : 'value';
          top.afterComma = true;
          i++;
          break;
        }
        case QUOTE: {
          this.inString = true;
          const e = this.skipString(text, i + 1);
          if (e === -1) {
            this.pending = { kind: 'string', start: at, parts: [text.slice(i)], length: len - i };
            this.checkPending();
            return;
          }
          this.stringToken(parseValue(text.slice(i, e), at, false) as string, at);
          i = e;
          break;
        }
        default: {
          const e = literalEnd(text, i);
          if (e === i) throw malformed(`unexpected character '${text[i]!}'`, at);
          if (e === len) {
            this.pending = { kind: 'literal', start: at, parts: [text.slice(i)], length: len - i };
            this.checkPending();
            return;
          }
          this.literalToken(text.slice(i, e), at);
          i = e;
        }
      }
    }
  }

  /** Continues a string or literal of the envelope that began in an earlier piece. */
  private continuePending(text: string): number {
    const p = this.pending!;
    let e: number;
    if (p.kind === 'string') {
      e = this.skipString(text, 0);
    } else {
      e = literalEnd(text, 0);
    }
    if (e === -1 || (p.kind === 'literal' && e === text.length)) {
      p.parts.push(text);
      p.length += text.length;
      this.checkPending();
      return text.length;
    }
    p.parts.push(text.slice(0, e));
    const token = p.parts.join('');
    this.pending = undefined;
    if (p.kind === 'string') this.stringToken(parseValue(token, p.start, false) as string, p.start);
    else this.literalToken(token, p.start);
    return e;
  }

  private checkPending(): void {
    if (this.pending!.length > this.limits.maxRecordBytes)
      throw recordTooLarge(this.limits.maxRecordBytes, this.dataset(), 'value (string or number)');
  }

  /**
   * Index just past the closing quote of the string that continues at `i`, or -1 when the piece
   * ends inside it. Only quotes and backslashes are looked at; escapes and control characters are
   * checked by `JSON.parse` when the string (or its row) is parsed.
   */
  private skipString(text: string, i: number): number {
    const len = text.length;
    if (this.escapePending) {
      if (i >= len) return -1;
      this.escapePending = false;
      i++;
    }
    for (;;) {
      const q = text.indexOf('"', i);
      if (q === -1) {
        let n = 0;
        for (let k = len - 1; k >= i && text.charCodeAt(k) === BACKSLASH; k--) n++;
        this.escapePending = (n & 1) === 1;
        return -1;
      }
      let n = 0;
      for (let k = q - 1; k >= i && text.charCodeAt(k) === BACKSLASH; k--) n++;
      if ((n & 1) === 0) {
        this.inString = false;
        return q + 1;
      }
      i = q + 1;
    }
  }

  /**
   * The common case of a captured row, without looking at its strings: the value whose opening
   * bracket is at `start` ends, within this piece, at the first bracket that balances the brackets
   * counted so far (those inside strings included), and `JSON.parse` of that text — which succeeds
   * only on exactly one whole value — confirms it. A row of a row list is read with the rows that
   * follow it in this piece: from `start` to the last of them that the count finds whole, all parsed
   * by one `JSON.parse` as an array (a parse per row costs more than the parse itself). A whole
   * array of objects parsed from there can only end where its last object really ends, so the count
   * finding row ends inside strings does not matter once the parse succeeds. The nesting, size and
   * the absence of numbers (which need the slower reviver) of each value are checked as it is
   * mapped to its element.
   *
   * Returns where the envelope resumes, or -1 (having changed nothing) when the value has to be
   * walked character by character by {@link continueCapture}: it continues in the next piece, a
   * bracket inside a string misled the count, it is malformed, too deep or too large (whose errors
   * that walk raises in their usual order), or it holds a number. After one such miss the rest of
   * the piece is walked, so a document that keeps misleading the count costs one extra look per
   * piece, not one per row.
   */
  private quickCapture(text: string, start: number): number {
    if (!this.quick) return -1;
    const cap = this.capture;
    // An error `Message` (one per document at most) is walked.
    if (cap.target !== 'record') return -1;
    const limit = this.limits.maxRecordBytes;
    let end = this.countedEnd(text, start);
    if (end === -1 || end - start > limit) return this.quickMiss();
    // The rows that follow in this piece, while the whole run stays within the record size (so no
    // row's text can be over it).
    let rows = 1;
    if (this.stack[this.stack.length - 1]!.role === 'rowList') {
      for (;;) {
        const next = nextRow(text, end);
        if (next === -1) break;
        const e = this.countedEnd(text, next);
        if (e === -1 || e - start > limit) break;
        end = e;
        rows++;
      }
    }
    let values: JsonValue[];
    try {
      values =
        rows === 1
          ? [JSON.parse(text.slice(start, end)) as JsonValue]
          : (JSON.parse(`[${text.slice(start, end)}]`) as JsonValue[]);
    } catch {
      return this.quickMiss();
    }
    const raws: RawElement[] = [];
    for (const value of values) {
      // Only objects are rows here; the walk knows what else a list may hold.
      if (typeof value !== 'object' || value === null || Array.isArray(value)) return this.quickMiss();
      const raw = jsonToRawExact(cap.name, value, cap.maxDepth, limit);
      if (raw === undefined) return this.quickMiss();
      raws.push(raw);
    }
    for (const raw of raws) this.deliverRecord(raw);
    return end;
  }

  /**
   * Where the value whose opening bracket is at `start` ends by the count of brackets (strings not
   * told apart), or -1: the piece ends first, or the count goes deeper than the value may.
   */
  private countedEnd(text: string, start: number): number {
    const maxDepth = this.capture.maxDepth;
    let depth = 1;
    let pos = start + 1;
    let open = this.nextOpen(text, pos);
    let close = this.nextClose(text, pos);
    while (close !== -1) {
      if (open !== -1 && open < close) {
        if (++depth > maxDepth) return -1;
        pos = open + 1;
        open = this.nextOpen(text, pos);
      } else {
        pos = close + 1;
        if (--depth === 0) return pos;
        close = this.nextClose(text, pos);
      }
    }
    return -1;
  }

  private quickMiss(): number {
    this.quick = false;
    return -1;
  }

  /** Index of the next `{` or `[` at or after `pos` in this piece (-1: none); each is searched once per piece. */
  private nextOpen(text: string, pos: number): number {
    if (this.nextBrace !== -1 && this.nextBrace < pos) this.nextBrace = text.indexOf('{', pos);
    if (this.nextBracket !== -1 && this.nextBracket < pos) this.nextBracket = text.indexOf('[', pos);
    return earliest(this.nextBrace, this.nextBracket);
  }

  /** Index of the next `}` or `]` at or after `pos` in this piece (-1: none). */
  private nextClose(text: string, pos: number): number {
    if (this.nextCloseBrace !== -1 && this.nextCloseBrace < pos) this.nextCloseBrace = text.indexOf('}', pos);
    if (this.nextCloseBracket !== -1 && this.nextCloseBracket < pos)
      this.nextCloseBracket = text.indexOf(']', pos);
    return earliest(this.nextCloseBrace, this.nextCloseBracket);
  }

  /**
   * Walks a captured row from `i` (its opening bracket at `start` in this piece, or -1 when it began
   * in an earlier piece) to its closing bracket, then parses it; returns where the envelope resumes.
   */
  private continueCapture(text: string, i: number, start = -1): number {
    const cap = this.capture;
    const brackets = this.brackets;
    const len = text.length;
    if (this.inString) {
      const e = this.skipString(text, i);
      if (e === -1) return this.keepCaptured(text, start, len);
      i = e;
    }
    while (i < len) {
      const c = text.charCodeAt(i);
      if (c === QUOTE) {
        this.inString = true;
        const e = this.skipString(text, i + 1);
        if (e === -1) return this.keepCaptured(text, start, len);
        i = e;
        continue;
      }
      if (c === LEFT_BRACE || c === LEFT_BRACKET) {
        if (cap.depth >= cap.maxDepth) throw documentTooDeep(this.limits.maxDepth, this.dataset());
        brackets[cap.depth++] = c;
      } else if (c === RIGHT_BRACE || c === RIGHT_BRACKET) {
        if (brackets[--cap.depth] !== c - 2)
          throw malformed(`unexpected '${String.fromCharCode(c)}'`, this.base + i);
        if (cap.depth === 0) {
          this.finishCapture(text, start, i + 1);
          return i + 1;
        }
      } else if ((c >= 0x30 && c <= 0x39) || c === 0x2d) cap.hasNumber = true;
      i++;
    }
    return this.keepCaptured(text, start, len);
  }

  /** The piece ended inside a captured row: keeps its text, within the record limit. */
  private keepCaptured(text: string, start: number, len: number): number {
    const cap = this.capture;
    const kept = start <= 0 ? text : text.slice(start);
    cap.parts.push(kept);
    cap.length += kept.length;
    if (cap.length > this.limits.maxRecordBytes)
      throw recordTooLarge(this.limits.maxRecordBytes, this.dataset());
    return len;
  }

  private finishCapture(text: string, start: number, end: number): void {
    const cap = this.capture;
    const tail = text.slice(start === -1 ? 0 : start, end);
    if (cap.length + tail.length > this.limits.maxRecordBytes)
      throw recordTooLarge(this.limits.maxRecordBytes, this.dataset());
    const source = cap.parts.length === 0 ? tail : cap.parts.join('') + tail;
    cap.active = false;
    cap.parts.length = 0;
    const value = parseValue(source, cap.start, cap.hasNumber);
    if (measure(cap.name, value) > this.limits.maxRecordBytes)
      throw recordTooLarge(this.limits.maxRecordBytes, this.dataset());
    this.deliver(value);
  }

  /** Hands on a whole captured value (checked against the limits) and resumes the envelope. */
  private deliver(value: JsonValue): void {
    const cap = this.capture;
    if (cap.target === 'record') return this.deliverRecord(jsonToRaw(cap.name, value));
    cap.active = false;
    if (cap.target === 'message') this.message = value;
    else throw this.messageError(value);
    this.afterValue();
  }

  /** Hands on a whole captured row, already mapped to its element, and resumes the envelope. */
  private deliverRecord(raw: RawElement): void {
    const cap = this.capture;
    cap.active = false;
    this.sink.record(cap.dataset!, raw);
    this.afterValue();
  }

  /** The dataset whose container is open, if any (for the limits' errors). */
  private dataset(): DatasetId | undefined {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const d = this.stack[i]!.dataset;
      if (d !== undefined) return d;
    }
    return undefined;
  }

  private messageError(value: JsonValue): IsamsError {
    const raw = jsonToRaw('Message', value);
    const field = (n: string): string | undefined =>
      raw.children.find((c) => c.name.toLowerCase() === n)?.text;
    return classifyMessage({
      messageId: field('messageid'),
      messageName: field('messagename'),
      title: field('title'),
      description: field('description'),
    });
  }

  private stringToken(value: string, at: number): void {
    const top = this.stack[this.stack.length - 1];
    if (top?.kind === 'object' && top.state === 'key') {
      top.key = value;
      top.state = 'colon';
      return;
    }
    this.primitive(top, value, at);
  }

  private literalToken(token: string, at: number): void {
    const top = this.stack[this.stack.length - 1];
    if (token === 'true' || token === 'false') this.primitive(top, token === 'true', at);
    else if (token === 'null') this.primitive(top, null, at);
    else if (NUMBER.test(token)) this.primitive(top, token, at);
    else throw malformed('a value that is not true, false, null, a number or a string', at);
  }

  /** Checks the grammar allows a value here and returns the property key it belongs to. */
  private beforeValue(top: Frame | undefined, at: number): string {
    if (top === undefined) return '';
    if (top.state !== 'value') throw malformed('unexpected value', at);
    return top.kind === 'object' ? top.key : top.name;
  }

  private afterValue(): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      this.done = true;
      return;
    }
    top.state = 'comma';
    top.afterComma = false;
  }

  private close(kind: 'object' | 'array', at: number): void {
    const top = this.stack[this.stack.length - 1];
    const ch = kind === 'object' ? '}' : ']';
    if (top === undefined || top.kind !== kind) throw malformed(`unexpected '${ch}'`, at);
    if (top.afterComma || top.state === 'colon' || (kind === 'object' && top.state === 'value'))
      throw malformed(`unexpected '${ch}'`, at);
    this.stack.pop();
    if (top.role === 'container') this.sink.containerEnd();
    else if (top.role === 'root' && !this.isams && this.message === undefined) {
      throw notIsamsDocument(
        this.messageText
          ? 'a root "Message" that is text — a web server\'s error, not iSAMS\'s error message — and no "iSAMS" object'
          : 'its JSON object has no "iSAMS" object',
      );
    }
    this.afterValue();
  }

  private primitive(top: Frame | undefined, value: JsonValue, at: number): void {
    const key = this.beforeValue(top, at);
    if (top === undefined) throw malformed('the document is not a JSON object', at);
    switch (top.role) {
      case 'root':
        this.rootPrimitive(key.toLowerCase(), value);
        break;
      case 'module':
        if (!isMeta(key)) this.emptyContainer(top.name, key, value, at);
        break;
      case 'containerList':
        this.emptyContainer(top.module ?? '', top.name, value, at);
        break;
      case 'container':
        if (isMeta(key)) {
          // Json.NET's form of text beside the rows: `<CurrentPupils>junk<Pupil …>`.
          if (TEXT_KEYS.has(key.toLowerCase()) && !isBlank(value))
            throw textWhereRowsBelong(top.dataset!, top.module ?? '', top.name, at);
          break;
        }
        if (isRowName(top.dataset!, key)) this.sink.record(top.dataset!, jsonToRaw(key, value));
        else this.sink.notARow(top.dataset!, top.module ?? '', top.name, key);
        break;
      case 'rowList':
        this.sink.record(top.dataset!, jsonToRaw(top.name, value));
        break;
      case 'otherList':
        this.sink.notARow(top.dataset!, top.module ?? '', top.container ?? '', top.name);
        break;
      case 'containerText':
        if (!isBlank(value))
          throw textWhereRowsBelong(top.dataset!, top.module ?? '', top.container ?? '', at);
        break;
      default:
        break;
    }
    this.afterValue();
  }

  /** A value that is not an object or array at the root, under `key` (lower-cased). */
  private rootPrimitive(key: string, value: JsonValue): void {
    if (key === 'message') this.messageText = true;
    else if (key === 'isams') {
      // Json.NET writes an empty `<iSAMS/>` as null or "": an empty document, as in XML.
      if (value === null || (typeof value === 'string' && value.trim() === '')) this.isams = true;
      else throw notIsamsDocument('"iSAMS" is a single value (text, a number, true or false), not an object');
    }
  }

  /** A container written as a single value: empty when null or blank, else text where rows belong. */
  private emptyContainer(module: string, container: string, value: JsonValue, at: number): void {
    const dataset = this.sink.containerStart(module, container);
    if (dataset === undefined) return;
    if (!isBlank(value)) throw textWhereRowsBelong(dataset, module, container, at);
    this.sink.containerEnd();
  }

  /**
   * An object or array starts at `at`. Either pushes an envelope frame (returns false) or, for a
   * row or an error message, starts capturing its text (returns true).
   */
  private open(kind: 'object' | 'array', at: number): boolean {
    const parent = this.stack[this.stack.length - 1];
    const key = this.beforeValue(parent, at);
    if (this.stack.length >= this.limits.maxDepth)
      throw documentTooDeep(this.limits.maxDepth, this.dataset());
    const frame: Frame = {
      role: 'skip',
      kind,
      name: key,
      state: kind === 'object' ? 'key' : 'value',
      key: '',
      afterComma: false,
    };
    let target: Capture['target'] | undefined;
    let dataset: DatasetId | undefined;
    let name = key;
    if (parent === undefined) {
      if (kind !== 'object') throw malformed('the document is not a JSON object', at);
      frame.role = 'root';
    } else {
      switch (parent.role) {
        case 'root': {
          const k = key.toLowerCase();
          if (k === 'isams') {
            if (kind === 'array') throw notIsamsDocument('"iSAMS" is an array, not an object');
            frame.role = 'isams';
            this.isams = true;
          } else if (k === 'message') target = 'message';
          break;
        }
        case 'isams':
          if (key.toLowerCase() === 'message') target = 'isamsMessage';
          else if (isMeta(key)) break;
          else if (kind === 'object') frame.role = 'module';
          else frame.role = 'moduleList';
          break;
        case 'moduleList':
          if (kind === 'object') {
            frame.role = 'module';
            frame.name = parent.name;
          }
          break;
        case 'module':
          if (isMeta(key)) break;
          if (kind === 'array') {
            frame.role = 'containerList';
            frame.module = parent.name;
          } else this.startContainer(frame, parent.name, key);
          break;
        case 'containerList':
          if (kind === 'object') this.startContainer(frame, parent.module ?? '', parent.name);
          break;
        case 'container': {
          if (TEXT_KEYS.has(key.toLowerCase())) {
            // Several text pieces beside the rows are a list (each checked as it comes); text is never
            // an object.
            if (kind === 'object')
              throw textWhereRowsBelong(parent.dataset!, parent.module ?? '', parent.name, at);
            frame.role = 'containerText';
            frame.dataset = parent.dataset!;
            frame.module = parent.module ?? '';
            frame.container = parent.name;
            break;
          }
          if (isMeta(key)) break;
          if (!isRowName(parent.dataset!, key)) {
            // Not a row (DocumentSink.notARow); its content is walked, not read.
            if (kind === 'object') this.sink.notARow(parent.dataset!, parent.module ?? '', parent.name, key);
            else {
              frame.role = 'otherList';
              frame.dataset = parent.dataset!;
              frame.module = parent.module ?? '';
              frame.container = parent.name;
            }
            break;
          }
          if (kind === 'array') {
            frame.role = 'rowList';
            frame.dataset = parent.dataset!;
          } else {
            target = 'record';
            dataset = parent.dataset;
          }
          break;
        }
        case 'rowList':
          // An array in the row list is no row of Json.NET's either, but it may be a damaged one:
          // read as a record whose items are its children, it has no identity (jsonToRaw).
          target = 'record';
          dataset = parent.dataset;
          name = parent.name;
          break;
        case 'otherList':
          this.sink.notARow(parent.dataset!, parent.module ?? '', parent.container ?? '', parent.name);
          break;
        case 'containerText':
          // A text piece is a string; anything else there is not what Json.NET writes for text.
          throw textWhereRowsBelong(parent.dataset!, parent.module ?? '', parent.container ?? '', at);
        default:
          break;
      }
    }
    if (target !== undefined) {
      const cap = this.capture;
      cap.active = true;
      cap.name = name;
      cap.start = at;
      cap.length = 0;
      cap.depth = 1;
      cap.maxDepth = this.limits.maxDepth - this.stack.length;
      cap.hasNumber = false;
      cap.target = target;
      cap.dataset = dataset;
      return true;
    }
    this.stack.push(frame);
    return false;
  }

  private startContainer(frame: Frame, module: string, container: string): void {
    const dataset = this.sink.containerStart(module, container);
    if (dataset === undefined) return;
    frame.role = 'container';
    frame.dataset = dataset;
    frame.module = module;
    frame.name = container;
  }
}

/** End of the literal (`true`, `-1.5e3`, …) starting at `i`: letters, digits, `+`, `-`, `.`. */
function literalEnd(text: string, i: number): number {
  const len = text.length;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (
      (c >= 0x61 && c <= 0x7a) ||
      (c >= 0x30 && c <= 0x39) ||
      (c >= 0x41 && c <= 0x5a) ||
      c === 0x2b ||
      c === 0x2d ||
      c === 0x2e
    )
      i++;
    else break;
  }
  return i;
}

/** Index of the `{` that follows `i` after whitespace, a comma and whitespace, or -1. */
function nextRow(text: string, i: number): number {
  const len = text.length;
  i = skipSpace(text, i);
  if (i >= len || text.charCodeAt(i) !== COMMA) return -1;
  i = skipSpace(text, i + 1);
  return i < len && text.charCodeAt(i) === LEFT_BRACE ? i : -1;
}

function skipSpace(text: string, i: number): number {
  const len = text.length;
  while (i < len) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x0a && c !== 0x0d && c !== 0x09) break;
    i++;
  }
  return i;
}
