import { SaxesParser } from 'saxes';
import type { SaxesTagPlain } from 'saxes';
import type { DatasetId } from '../datasets';
import { classifyMessage } from '../errors/classify-message';
import type { IsamsMessage } from '../errors/classify-message';
import { IsamsError } from '../errors/isams-error';
import { NO_ATTRIBUTES, NO_CHILDREN } from '../raw-element';
import type { RawElement } from '../raw-element';
import type { DocumentSink } from './document-sink';
import { isRowName, textWhereRowsBelong } from './document-sink';
import { NODE_OVERHEAD, documentTooDeep, recordTooLarge } from './limits';
import type { ParserLimits } from './parse-events';

/**
 * A saxes parser whose handler properties exist from its construction. saxes adds one own property
 * per handler when `on` is first called, by a computed-key store; past a dozen properties added that
 * way V8 turns the parser object into a dictionary, and every field read of saxes's inner loop (the
 * chunk, the position, the state…) becomes a hash lookup: with the nine handlers this reader sets,
 * the parse ran four to five times slower than saxes can (libs/isams/README.md › Streaming and
 * memory). Created here by plain named stores, the properties keep the object's fast shape; `on`
 * then only replaces them.
 */
class SaxesParserWithHandlers extends SaxesParser<{ xmlns: false; position: true }> {
  constructor() {
    super({ xmlns: false, position: true });
    // One named store per property (saxes's `EVENT_NAME_TO_HANDLER_NAME`): a loop over the names
    // would be computed-key stores again, which is what turns the object into a dictionary.
    const self = this as unknown as Record<string, undefined>;
    self.xmldeclHandler = undefined;
    self.textHandler = undefined;
    self.piHandler = undefined;
    self.doctypeHandler = undefined;
    self.commentHandler = undefined;
    self.openTagStartHandler = undefined;
    self.attributeHandler = undefined;
    self.openTagHandler = undefined;
    self.closeTagHandler = undefined;
    self.cdataHandler = undefined;
    self.errorHandler = undefined;
    self.endHandler = undefined;
    self.readyHandler = undefined;
  }
}

/** saxes's resolution of an entity or character reference (a private method of saxes 6). */
interface SaxesEntities {
  parseEntity(this: SaxesEntities, entity: string): string;
  /** XML's `Char` production of the document's version. */
  isChar(code: number): boolean;
}

const saxesParseEntity = (SaxesParser.prototype as unknown as SaxesEntities).parseEntity;

/**
 * A character reference to a code point XML does not allow (`&#x0B;`, `&#1;`, `&#xFFFE;`, `&#xD800;`,
 * past `&#x10FFFF;`) reads as U+FFFD instead of ending the parse: SQL Server's `FOR XML` writes a
 * control character stored in a field (a vertical tab pasted into a name) as such a reference, and
 * one of them would otherwise stop the school's whole document. The field then holds U+FFFD, which
 * the typed view reports as unreadable. Only references saxes resolves — in text and attribute
 * values, not inside CDATA or comments — come here; the number is read as saxes reads it, so every
 * other reference (and every malformed one, which saxes refuses) resolves exactly as before.
 */
(SaxesParserWithHandlers.prototype as unknown as SaxesEntities).parseEntity = function parseEntity(
  entity: string,
): string {
  if (entity.charCodeAt(0) !== 0x23 /* # */) return saxesParseEntity.call(this, entity);
  let code = NaN;
  if (entity.charCodeAt(1) === 0x78 /* x */ && /^#x[0-9a-f]+$/i.test(entity))
    code = parseInt(entity.slice(2), 16);
  else if (/^#[0-9]+$/.test(entity)) code = parseInt(entity.slice(1), 10);
  if (Number.isNaN(code)) return saxesParseEntity.call(this, entity);
  return this.isChar(code) ? String.fromCodePoint(code) : '\uFFFD';
};

/**
 * C0 control characters other than tab, LF and CR, which XML 1.0 allows nowhere, not even literally:
 * read as U+FFFD, like a reference to one of them (above). A document that has none — every document
 * saxes accepts — is handed on unchanged. (A literal U+FFFE/U+FFFF is still refused: adding them to
 * the class doubles the scan's cost, for characters `FOR XML` is not known to write.)
 */
const DISALLOWED_CHAR = /[\u0000-\u0008\u000b\u000c\u000e-\u001f]/;
const DISALLOWED_CHARS = new RegExp(DISALLOWED_CHAR.source, 'g');

/** Input is handed to saxes in pieces of at most this many characters, so limits are checked often. */
const PIECE_CHARS = 64 * 1024;
/** Longest text kept of one `<Message>` field (it is shown bounded anyway). */
const MESSAGE_FIELD_MAX_CHARS = 4096;

interface Building {
  name: string;
  attributes: Readonly<Record<string, string>>;
  text: string | undefined;
  /** Made with the first child. */
  children: RawElement[] | undefined;
}

function finish(el: Building): RawElement {
  const children = el.children ?? NO_CHILDREN;
  // Indentation between child elements is formatting, not data; leaf text is kept exactly.
  const keepText = el.text !== undefined && (children.length === 0 || el.text.trim().length > 0);
  return keepText
    ? { name: el.name, attributes: el.attributes, text: el.text, children }
    : { name: el.name, attributes: el.attributes, children };
}

const MESSAGE_FIELDS: Record<string, keyof IsamsMessage> = {
  messageid: 'messageId',
  messagename: 'messageName',
  title: 'title',
  description: 'description',
};

/**
 * Push-based reader of the XML Batch API document. Selects rows by full path
 * (`iSAMS/Module/Container/Row`) only and builds each row subtree as a {@link RawElement}.
 *
 * Memory is bounded by the {@link ParserLimits}: the element depth (saxes keeps a stack of open
 * tags, and so does the row being built), the size of the row being built, and the characters saxes
 * buffers between two events (one text node, tag with its attributes, comment…), which stops a
 * single huge value wherever it is.
 */
export class XmlReader {
  private readonly parser = new SaxesParserWithHandlers();
  private depth = 0;
  private root: 'isams' | 'message' | undefined;
  private rootClosed = false;
  private module = '';
  private container = '';
  private dataset: DatasetId | undefined;
  private readonly stack: Building[] = [];
  private message: IsamsMessage | undefined;
  private messageDepth = 0;
  private messageField: keyof IsamsMessage | undefined;
  private closing = false;
  /** Whether the document has begun (white space before it is dropped, see `write`). */
  private started = false;
  /** Size of the row being built (see {@link ParserLimits.maxRecordBytes}). */
  private recordSize = 0;
  /** saxes's position (characters) at its last event. */
  private lastEvent = 0;
  /**
   * Characters handed to saxes so far. Between two writes saxes's `position` counts the last piece
   * twice (its chunk offset has moved past the piece, its index not reset yet), so the gap since the
   * last event is measured from this instead.
   */
  private written = 0;

  constructor(
    private readonly sink: DocumentSink,
    private readonly limits: ParserLimits,
  ) {
    const p = this.parser;
    const seen = (): void => {
      this.lastEvent = p.position;
    };
    p.on('opentag', (tag) => {
      seen();
      this.open(tag as SaxesTagPlain);
    });
    p.on('text', (t) => {
      seen();
      this.text(t);
    });
    p.on('cdata', (t) => {
      seen();
      this.text(t);
    });
    p.on('closetag', () => {
      seen();
      this.close();
    });
    p.on('comment', seen);
    p.on('processinginstruction', seen);
    p.on('doctype', seen);
    p.on('xmldecl', seen);
    p.on('error', (err) => {
      if (this.closing && !this.rootClosed) {
        throw new IsamsError({
          code: 'ISAMS_TRUNCATED_DOCUMENT',
          message: `The iSAMS document ended early (${err.message}).`,
          details: { reason: err.message },
        });
      }
      throw new IsamsError({
        code: 'ISAMS_MALFORMED_DOCUMENT',
        message: `The iSAMS document is not well-formed XML: ${err.message}`,
        details: { reason: err.message },
      });
    });
  }

  write(input: string): void {
    let text = input;
    if (!this.started) {
      // White space before the document (a blank line some servers write ahead of the XML
      // declaration) is dropped: saxes allows the declaration only at the very start.
      const first = text.search(/[^ \t\r\n\uFEFF]/);
      if (first === -1) return;
      text = text.slice(first);
      this.started = true;
    }
    for (let i = 0; i < text.length; i += PIECE_CHARS) {
      let piece = text.length <= PIECE_CHARS ? text : text.slice(i, i + PIECE_CHARS);
      // One native scan per piece; a piece with such a character is rare and replaced whole.
      if (DISALLOWED_CHAR.test(piece)) piece = piece.replace(DISALLOWED_CHARS, '\uFFFD');
      this.parser.write(piece);
      this.written += piece.length;
      if (this.written - this.lastEvent > this.limits.maxRecordBytes) {
        throw recordTooLarge(this.limits.maxRecordBytes, this.dataset, 'value (text, tag or comment)');
      }
    }
  }

  /** Ends the input; throws when the document is incomplete or an error document. */
  end(): void {
    this.closing = true;
    this.parser.close();
    if (!this.rootClosed) {
      throw new IsamsError({
        code: 'ISAMS_TRUNCATED_DOCUMENT',
        message: this.root === undefined ? 'The iSAMS response is empty.' : 'The iSAMS document ended early.',
      });
    }
    if (this.message !== undefined) throw classifyMessage(this.message);
  }

  private open(tag: SaxesTagPlain): void {
    this.depth += 1;
    const d = this.depth;
    if (d > this.limits.maxDepth) throw documentTooDeep(this.limits.maxDepth, this.dataset);
    if (this.message !== undefined && this.messageDepth > 0) {
      if (d === this.messageDepth + 1) this.messageField = MESSAGE_FIELDS[tag.name.toLowerCase()];
      return;
    }
    if (d === 1) {
      const name = tag.name.toLowerCase();
      if (name === 'isams') this.root = 'isams';
      else if (name === 'message') this.startMessage(d);
      else {
        throw new IsamsError({
          code: 'ISAMS_MALFORMED_DOCUMENT',
          message: `The response is not an iSAMS Batch API document (root element <${tag.name}>).`,
          details: { root: tag.name },
        });
      }
      return;
    }
    if (d === 2) {
      if (tag.name.toLowerCase() === 'message') this.startMessage(d);
      this.module = tag.name;
      return;
    }
    if (d === 3) {
      this.container = tag.name;
      this.dataset = this.sink.containerStart(this.module, tag.name);
      return;
    }
    if (this.dataset === undefined) return;
    if (d === 4) {
      if (!isRowName(this.dataset, tag.name)) {
        // Its content is skipped (nothing is built while the stack is empty).
        this.sink.notARow(this.dataset, this.module, this.container, tag.name);
        return;
      }
      this.recordSize = 0;
    } else if (this.stack.length === 0) return;
    // saxes's attributes are a dictionary without a prototype: copied into a plain object as they
    // are measured.
    let size = tag.name.length + NODE_OVERHEAD;
    let attributes: Record<string, string> | undefined;
    for (const name in tag.attributes) {
      const value = tag.attributes[name]!;
      size += name.length + value.length + NODE_OVERHEAD;
      (attributes ??= {})[name] = value;
    }
    this.grow(size);
    this.stack.push({
      name: tag.name,
      attributes: attributes ?? NO_ATTRIBUTES,
      text: undefined,
      children: undefined,
    });
  }

  private grow(size: number): void {
    this.recordSize += size;
    if (this.recordSize > this.limits.maxRecordBytes)
      throw recordTooLarge(this.limits.maxRecordBytes, this.dataset);
  }

  private text(t: string): void {
    const top = this.stack[this.stack.length - 1];
    if (top !== undefined) {
      this.grow(t.length);
      top.text = top.text === undefined ? t : top.text + t;
    } else if (this.messageField !== undefined && this.message !== undefined) {
      const field = this.message[this.messageField] ?? '';
      if (field.length < MESSAGE_FIELD_MAX_CHARS)
        this.message[this.messageField] = (field + t).slice(0, MESSAGE_FIELD_MAX_CHARS);
    } else if (this.depth === 3 && this.dataset !== undefined && t.trim().length > 0) {
      // Text in the root or a module is ignored: what it may have damaged reads as absent, which
      // removes nothing. In a dataset's container it may be a damaged row (textWhereRowsBelong).
      throw textWhereRowsBelong(this.dataset, this.module, this.container, this.parser.position);
    }
  }

  private close(): void {
    const d = this.depth;
    this.depth -= 1;
    if (this.messageDepth > 0) {
      if (d === this.messageDepth + 1) this.messageField = undefined;
      if (d === this.messageDepth) {
        this.messageDepth = 0;
        if (d > 1) throw classifyMessage(this.message ?? {});
      }
      if (d === 1) this.rootClosed = true;
      return;
    }
    if (d >= 4 && this.stack.length > 0) {
      const el = finish(this.stack.pop()!);
      const parent = this.stack[this.stack.length - 1];
      if (parent !== undefined) (parent.children ??= []).push(el);
      else if (this.dataset !== undefined) this.sink.record(this.dataset, el);
      return;
    }
    if (d === 3) {
      if (this.dataset !== undefined) this.sink.containerEnd();
      this.dataset = undefined;
    } else if (d === 1) this.rootClosed = true;
  }

  private startMessage(depth: number): void {
    if (depth === 1) this.root = 'message';
    this.message = {};
    this.messageDepth = depth;
  }
}
