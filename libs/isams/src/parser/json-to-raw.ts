import type { RawElement } from '../raw-element';

/** A JSON value as the streaming reader builds it (numbers kept as their source text). */
export type JsonValue = null | string | boolean | JsonValue[] | { [key: string]: JsonValue };

const AT = 0x40;
const HASH = 0x23;
const QUESTION = 0x3f;

function scalar(v: JsonValue): string {
  if (v === null) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/**
 * Maps one value of a Json.NET `SerializeXmlNode` document back to the element it came from:
 * `@name` → attribute, `#text`/`#cdata-section` → text, `null`/`""` → empty element, arrays →
 * repeated children; other `#`/`?` properties (whitespace, comments, declarations) are dropped.
 */
export function jsonToRaw(name: string, value: JsonValue): RawElement {
  if (value === null || value === '') return { name, attributes: {}, children: [] };
  if (typeof value === 'string') return { name, attributes: {}, text: value, children: [] };
  if (typeof value !== 'object') return { name, attributes: {}, text: String(value), children: [] };
  if (Array.isArray(value)) {
    // Only reachable for a row given as an array inside an array; keep its items as children.
    return { name, attributes: {}, children: value.map((v) => jsonToRaw(name, v)) };
  }
  const attributes: Record<string, string> = {};
  const children: RawElement[] = [];
  let text: string | undefined;
  // for…in over a JSON.parse result sees exactly its own keys, in the order Object.entries would.
  for (const key in value) {
    const v = value[key]!;
    const first = key.charCodeAt(0);
    if (first === AT) attributes[key.slice(1)] = scalar(v);
    else if (first === HASH || first === QUESTION) {
      if (key === '#text' || key === '#cdata-section' || key === '#significant-whitespace') {
        const part = Array.isArray(v) ? v.map(scalar).join('') : scalar(v);
        text = text === undefined ? part : text + part;
      }
    } else if (Array.isArray(v)) for (const item of v) children.push(jsonToRaw(key, item));
    else children.push(jsonToRaw(key, v));
  }
  return text === undefined || text === ''
    ? { name, attributes, children }
    : { name, attributes, text, children };
}
