import { Tokenizer, TokenType } from '@streamparser/json';
import type { ParsedTokenInfo } from '@streamparser/json';
import type { DatasetId } from '../datasets';
import { classifyMessage } from '../errors/classify-message';
import { IsamsError } from '../errors/isams-error';
import type { DocumentSink } from './document-sink';
import { isRowName } from './document-sink';
import { jsonToRaw } from './json-to-raw';
import type { JsonValue } from './json-to-raw';
import { NODE_OVERHEAD, documentTooDeep, recordTooLarge } from './limits';
import type { ParserLimits } from './parse-events';

/** Input is handed to the tokenizer in pieces of at most this many characters, so limits are checked often. */
const PIECE_CHARS = 64 * 1024;

/** Keeps numbers as their source text so ids never lose precision. */
class TextNumberTokenizer extends Tokenizer {
  protected override parseNumber(numberStr: string): number {
    return numberStr as unknown as number;
  }
}

type Role =
  | 'top'
  | 'root'
  | 'isams'
  | 'moduleList'
  | 'module'
  | 'containerList'
  | 'container'
  | 'rowList'
  | 'skip'
  | 'build';

interface Frame {
  role: Role;
  kind: 'object' | 'array';
  /** The property name this value was found under (for lists: the name of their items). */
  name: string;
  /** Grammar state for this object/array. */
  state: 'key' | 'colon' | 'value' | 'comma';
  /** Pending property key inside an object. */
  key?: string;
  /** Values seen so far, and whether a comma is waiting for the next one (grammar checks). */
  items: number;
  afterComma: boolean;
  dataset?: DatasetId;
  module?: string;
  /** For build frames: the value being assembled. */
  value?: { [key: string]: JsonValue } | JsonValue[];
  /** For build roots: what to do when complete. */
  complete?: (value: JsonValue) => void;
}

function malformed(reason: string): IsamsError {
  return new IsamsError({
    code: 'ISAMS_MALFORMED_DOCUMENT',
    message: `The iSAMS document is not well-formed JSON: ${reason}`,
    details: { reason },
  });
}

const isMeta = (key: string): boolean => key.startsWith('@') || key.startsWith('#') || key.startsWith('?');

/**
 * Push-based reader of the `json.ashx` document. Holds at most one row in memory: the tokenizer
 * drives a role stack (root → module → container → row) and only rows are materialised, then
 * mapped back to {@link RawElement} with the Json.NET conventions.
 *
 * Memory is bounded by the {@link ParserLimits}: the nesting depth (the role stack), the size of
 * the row being built, and the bytes the tokenizer buffers between two tokens (one string or
 * number), which stops a single huge value wherever it is.
 */
export class JsonReader {
  private readonly tokenizer = new TextNumberTokenizer();
  private readonly stack: Frame[] = [];
  private done = false;
  private started = false;
  private failure: unknown;
  private message: JsonValue | undefined;
  /** Size of the row being built (see {@link ParserLimits.maxRecordBytes}). */
  private recordSize = 0;
  /** Bytes handed to the tokenizer, and the offset of its last token. */
  private written = 0;
  private lastToken = 0;

  constructor(
    private readonly sink: DocumentSink,
    private readonly limits: ParserLimits,
  ) {
    this.tokenizer.onToken = (t) => this.token(t);
    this.tokenizer.onError = (err) => {
      this.failure ??= err instanceof IsamsError ? err : malformed(err.message);
      throw this.failure;
    };
    this.tokenizer.onEnd = () => undefined;
  }

  write(text: string): void {
    if (this.failure !== undefined) throw this.failure;
    try {
      for (let i = 0; i < text.length; i += PIECE_CHARS) {
        const piece = text.length <= PIECE_CHARS ? text : text.slice(i, i + PIECE_CHARS);
        this.written += Buffer.byteLength(piece);
        this.tokenizer.write(piece);
        if (this.written - this.lastToken > this.limits.maxRecordBytes) {
          this.failure = recordTooLarge(
            this.limits.maxRecordBytes,
            this.dataset(),
            'value (string or number)',
          );
          throw this.failure;
        }
      }
    } catch (err) {
      throw this.failure ?? (err instanceof IsamsError ? err : malformed(String((err as Error).message)));
    }
  }

  /** The dataset whose container is open, if any (for the limits' errors). */
  private dataset(): DatasetId | undefined {
    for (let i = this.stack.length - 1; i >= 0; i--) {
      const d = this.stack[i]!.dataset;
      if (d !== undefined) return d;
    }
    return undefined;
  }

  private grow(size: number): void {
    this.recordSize += size;
    if (this.recordSize > this.limits.maxRecordBytes)
      throw recordTooLarge(this.limits.maxRecordBytes, this.dataset());
  }

  end(): void {
    if (this.failure !== undefined) throw this.failure;
    if (!this.done) {
      throw new IsamsError({
        code: 'ISAMS_TRUNCATED_DOCUMENT',
        message: this.started ? 'The iSAMS document ended early.' : 'The iSAMS response is empty.',
      });
    }
    if (this.message !== undefined) throw this.messageError(this.message);
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

  private token(t: ParsedTokenInfo): void {
    if (this.done) throw malformed('data after the end of the document');
    this.started = true;
    this.lastToken = t.offset;
    const top = this.stack[this.stack.length - 1];
    switch (t.token) {
      case TokenType.LEFT_BRACE:
      case TokenType.LEFT_BRACKET: {
        const key = this.beforeValue(top);
        this.openValue(top, key, t.token === TokenType.LEFT_BRACE ? 'object' : 'array');
        return;
      }
      case TokenType.RIGHT_BRACE:
      case TokenType.RIGHT_BRACKET: {
        const kind = t.token === TokenType.RIGHT_BRACE ? 'object' : 'array';
        if (top === undefined || top.kind !== kind) throw malformed(`unexpected '${String(t.value)}'`);
        if (top.afterComma || top.state === 'colon' || (kind === 'object' && top.state === 'value')) {
          throw malformed(`unexpected '${String(t.value)}'`);
        }
        this.stack.pop();
        this.closeValue(top);
        this.afterValue();
        return;
      }
      case TokenType.COLON:
        if (top?.kind !== 'object' || top.state !== 'colon') throw malformed("unexpected ':'");
        top.state = 'value';
        return;
      case TokenType.COMMA:
        if (top === undefined || top.state !== 'comma') throw malformed("unexpected ','");
        top.state = top.kind === 'object' ? 'key' : 'value';
        top.afterComma = true;
        return;
      case TokenType.STRING:
        if (top?.kind === 'object' && top.state === 'key') {
          top.key = t.value as string;
          top.state = 'colon';
          return;
        }
        this.primitive(top, t.value as string);
        return;
      case TokenType.NUMBER:
        this.primitive(top, t.value as unknown as string);
        return;
      case TokenType.TRUE:
      case TokenType.FALSE:
        this.primitive(top, t.value as boolean);
        return;
      case TokenType.NULL:
        this.primitive(top, null);
        return;
      default:
        throw malformed('unexpected token');
    }
  }

  /** Checks the grammar allows a value here and returns the property key it belongs to. */
  private beforeValue(top: Frame | undefined): string {
    if (top === undefined) {
      if (this.stack.length === 0 && this.started && this.done)
        throw malformed('data after the end of the document');
      return '';
    }
    if (top.state !== 'value') throw malformed('unexpected value');
    return top.kind === 'object' ? (top.key ?? '') : top.name;
  }

  private afterValue(): void {
    const top = this.stack[this.stack.length - 1];
    if (top === undefined) {
      this.done = true;
      return;
    }
    top.state = 'comma';
    top.items += 1;
    top.afterComma = false;
  }

  private primitive(top: Frame | undefined, value: JsonValue): void {
    const key = this.beforeValue(top);
    if (top === undefined) throw malformed('the document is not a JSON object');
    switch (top.role) {
      case 'build':
        this.grow(key.length + (value === null ? 4 : String(value).length) + NODE_OVERHEAD);
        this.assign(top, key, value);
        break;
      case 'module':
        if (!isMeta(key)) this.emptyContainer(top.name, key);
        break;
      case 'containerList':
        this.emptyContainer(top.module ?? '', top.name);
        break;
      case 'container':
        if (isMeta(key)) break;
        if (isRowName(top.dataset!, key)) this.sink.record(top.dataset!, jsonToRaw(key, value));
        else this.sink.unexpected(`${top.module}/${top.name}/${key}`, top.dataset);
        break;
      case 'rowList':
        this.sink.record(top.dataset!, jsonToRaw(top.name, value));
        break;
      default:
        break;
    }
    this.afterValue();
  }

  private emptyContainer(module: string, container: string): void {
    if (this.sink.containerStart(module, container) !== undefined) this.sink.containerEnd();
  }

  private assign(frame: Frame, key: string, value: JsonValue): void {
    if (Array.isArray(frame.value)) frame.value.push(value);
    else if (frame.value !== undefined) frame.value[key] = value;
  }

  private openValue(parent: Frame | undefined, key: string, kind: 'object' | 'array'): void {
    const frame: Frame = {
      role: 'skip',
      kind,
      name: key,
      state: kind === 'object' ? 'key' : 'value',
      items: 0,
      afterComma: false,
    };
    if (this.stack.length >= this.limits.maxDepth)
      throw documentTooDeep(this.limits.maxDepth, this.dataset());
    const build = (complete: (value: JsonValue) => void): void => {
      this.recordSize = 0;
      this.grow(key.length + NODE_OVERHEAD);
      frame.role = 'build';
      frame.value = kind === 'object' ? {} : [];
      frame.complete = complete;
    };
    if (parent === undefined) {
      if (kind !== 'object') throw malformed('the document is not a JSON object');
      frame.role = 'root';
    } else {
      switch (parent.role) {
        case 'root': {
          const k = key.toLowerCase();
          if (k === 'isams' && kind === 'object') frame.role = 'isams';
          else if (k === 'message') build((v) => (this.message = v));
          break;
        }
        case 'isams':
          if (key.toLowerCase() === 'message')
            build((v) => {
              throw this.messageError(v);
            });
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
        case 'container':
          if (isMeta(key)) break;
          if (!isRowName(parent.dataset!, key)) {
            this.sink.unexpected(`${parent.module}/${parent.name}/${key}`, parent.dataset);
            break;
          }
          if (kind === 'array') {
            frame.role = 'rowList';
            frame.dataset = parent.dataset!;
          } else build((v) => this.sink.record(parent.dataset!, jsonToRaw(key, v)));
          break;
        case 'rowList':
          if (kind === 'object') build((v) => this.sink.record(parent.dataset!, jsonToRaw(parent.name, v)));
          break;
        case 'build':
          this.grow(key.length + NODE_OVERHEAD);
          frame.role = 'build';
          frame.value = kind === 'object' ? {} : [];
          this.assign(parent, key, frame.value);
          break;
        default:
          break;
      }
    }
    this.stack.push(frame);
  }

  private startContainer(frame: Frame, module: string, container: string): void {
    const dataset = this.sink.containerStart(module, container);
    if (dataset === undefined) return;
    frame.role = 'container';
    frame.dataset = dataset;
    frame.module = module;
    frame.name = container;
  }

  private closeValue(frame: Frame): void {
    if (frame.role === 'container') this.sink.containerEnd();
    if (frame.complete !== undefined) frame.complete(frame.value ?? null);
  }
}
