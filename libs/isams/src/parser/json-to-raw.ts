import { NO_ATTRIBUTES, NO_CHILDREN } from '../raw-element';
import type { RawElement } from '../raw-element';
import { NODE_OVERHEAD } from './limits';

/** A JSON value as the streaming reader builds it (numbers kept as their source text). */
export type JsonValue = null | string | boolean | JsonValue[] | { [key: string]: JsonValue };

const AT = 0x40;
const HASH = 0x23;
const QUESTION = 0x3f;

/**
 * Thrown by {@link exactValue} at a number (whose source text `JSON.parse` did not keep), at an
 * attribute or text given as an array or object (rare enough to go the slow way), past the depth it
 * was given, or past its size budget.
 */
const NOT_EXACT = new Error('not exact');

/**
 * What is left of the size the value {@link exactValue} maps may count: every value counts its
 * name, 16 ({@link NODE_OVERHEAD}) and its text (4 for `null`), as the readers' `measure` counts it.
 */
let budget = 0;

function spend(size: number): void {
  budget -= size;
  if (budget < 0) throw NOT_EXACT;
}

/**
 * `@Id` → `Id`, remembered for the names every row repeats (a new string per attribute, made and
 * then looked up as a property name, cost the large school's parse about a tenth of its time).
 * Bounded whatever a document holds: at most 1,000 names of at most 64 characters.
 */
const attributeNames = new Map<string, string>();

function attributeName(key: string): string {
  let name = attributeNames.get(key);
  if (name === undefined) {
    name = key.slice(1);
    if (attributeNames.size < 1000 && key.length <= 64) attributeNames.set(key, name);
  }
  return name;
}

function scalar(v: JsonValue): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** The size a value of {@link isText} counts: its text, 4 for `null`. */
const textSize = (v: JsonValue): number => (v === null ? 4 : typeof v === 'string' ? v.length : v ? 4 : 5);

/** A value whose {@link scalar} does not depend on a number's source text. */
const isText = (v: JsonValue): boolean => typeof v === 'string' || v === null || typeof v === 'boolean';

/** An element of what a walk collected (none: the shared frozen empty ones; empty text: none). */
function element(
  name: string,
  attributes: Record<string, string> | undefined,
  children: RawElement[] | undefined,
  text: string | undefined,
): RawElement {
  const a = attributes ?? NO_ATTRIBUTES;
  const c = children ?? NO_CHILDREN;
  return text === undefined || text === ''
    ? { name, attributes: a, children: c }
    : { name, attributes: a, text, children: c };
}

/** The element of `value` (numbers already their source text, as the walked rows give them). */
function toRaw(name: string, value: JsonValue): RawElement {
  if (typeof value !== 'object' || value === null) {
    if (value === null || value === '') return { name, attributes: NO_ATTRIBUTES, children: NO_CHILDREN };
    return { name, attributes: NO_ATTRIBUTES, text: String(value), children: NO_CHILDREN };
  }
  if (Array.isArray(value)) {
    // Only reachable for a row given as an array inside an array; keep its items as children.
    return { name, attributes: NO_ATTRIBUTES, children: value.map((v) => toRaw(name, v)) };
  }
  let attributes: Record<string, string> | undefined;
  let children: RawElement[] | undefined;
  let text: string | undefined;
  // for…in over a JSON.parse result sees exactly its own keys, in the order Object.entries would.
  for (const key in value) {
    const v = value[key]!;
    const first = key.charCodeAt(0);
    if (first === AT || first === HASH || first === QUESTION) {
      if (first === AT) (attributes ??= {})[attributeName(key)] = scalar(v);
      else if (key === '#text' || key === '#cdata-section' || key === '#significant-whitespace') {
        const part = Array.isArray(v) ? v.map(scalar).join('') : scalar(v);
        text = text === undefined ? part : text + part;
      }
    } else if (Array.isArray(v)) {
      children ??= [];
      for (const item of v) children.push(toRaw(key, item));
    } else (children ??= []).push(toRaw(key, v));
  }
  return element(name, attributes, children, text);
}

/** {@link exactValue} of a leaf: text, `null` or a boolean (a number throws {@link NOT_EXACT}). */
function exactLeaf(name: string, value: JsonValue): RawElement {
  if (typeof value === 'string') {
    spend(name.length + NODE_OVERHEAD + value.length);
    return value === ''
      ? { name, attributes: NO_ATTRIBUTES, children: NO_CHILDREN }
      : { name, attributes: NO_ATTRIBUTES, text: value, children: NO_CHILDREN };
  }
  if (value === null) {
    spend(name.length + NODE_OVERHEAD + 4);
    return { name, attributes: NO_ATTRIBUTES, children: NO_CHILDREN };
  }
  if (typeof value === 'boolean') {
    spend(name.length + NODE_OVERHEAD + (value ? 4 : 5));
    return { name, attributes: NO_ATTRIBUTES, text: value ? 'true' : 'false', children: NO_CHILDREN };
  }
  throw NOT_EXACT;
}

/**
 * {@link toRaw} of a plain `JSON.parse` result, or {@link NOT_EXACT} where its text could be wrong
 * (a number), where it is rare (an attribute or text that is an array or object), when an object or
 * array sits `depth` levels down (each array a level of its own), or when the value counts more than
 * the {@link budget}.
 */
function exactValue(name: string, value: JsonValue, depth: number): RawElement {
  if (typeof value !== 'object' || value === null) return exactLeaf(name, value);
  if (depth === 0) throw NOT_EXACT;
  if (!Array.isArray(value)) return exactObject(name, value, depth);
  spend(name.length + NODE_OVERHEAD);
  const children: RawElement[] = [];
  for (const item of value) children.push(exactValue(name, item, depth - 1));
  return { name, attributes: NO_ATTRIBUTES, children };
}

/**
 * {@link exactValue} of an object, `depth` (at least 1) levels above the limit. Every row read the
 * fast way comes here, so it is apart from {@link toRaw}: a leaf takes no depth or mode test (when
 * one walk did both, those tests and a call per value were a fifth of the large school's mapping).
 */
function exactObject(name: string, value: { [key: string]: JsonValue }, depth: number): RawElement {
  spend(name.length + NODE_OVERHEAD);
  let attributes: Record<string, string> | undefined;
  let children: RawElement[] | undefined;
  let text: string | undefined;
  for (const key in value) {
    const v = value[key]!;
    const first = key.charCodeAt(0);
    if (first === AT || first === HASH || first === QUESTION) {
      if (!isText(v)) throw NOT_EXACT;
      spend(key.length + NODE_OVERHEAD + textSize(v));
      if (first === AT) (attributes ??= {})[attributeName(key)] = scalar(v);
      else if (key === '#text' || key === '#cdata-section' || key === '#significant-whitespace') {
        const part = scalar(v);
        text = text === undefined ? part : text + part;
      }
    } else if (typeof v !== 'object' || v === null) (children ??= []).push(exactLeaf(key, v));
    else if (Array.isArray(v)) {
      if (depth === 1) throw NOT_EXACT;
      spend(key.length + NODE_OVERHEAD);
      children ??= [];
      for (const item of v) children.push(exactValue(key, item, depth - 2));
    } else {
      if (depth === 1) throw NOT_EXACT;
      (children ??= []).push(exactObject(key, v, depth - 1));
    }
  }
  return element(name, attributes, children, text);
}

/**
 * Maps one value of a Json.NET `SerializeXmlNode` document back to the element it came from:
 * `@name` → attribute, `#text`/`#cdata-section` → text, `null`/`""` → empty element, arrays →
 * repeated children; other `#`/`?` properties (whitespace, comments, declarations) are dropped.
 */
export function jsonToRaw(name: string, value: JsonValue): RawElement {
  return toRaw(name, value);
}

/**
 * {@link jsonToRaw} of a plain `JSON.parse` result, or `undefined` when the value holds a number (a
 * number's source text — `1.50`, a 20-digit id — is not kept by a plain parse; the caller parses it
 * again keeping numbers as their text), an attribute or text given as an array or object, an object
 * or array `maxDepth` levels down (the value itself being the first), or when it counts more than
 * `maxSize` (names and values, 16 more per value: the record size of the parser limits).
 */
export function jsonToRawExact(
  name: string,
  value: JsonValue,
  maxDepth: number,
  maxSize: number,
): RawElement | undefined {
  budget = maxSize;
  try {
    return exactValue(name, value, maxDepth);
  } catch (err) {
    if (err === NOT_EXACT) return undefined;
    throw err;
  }
}
