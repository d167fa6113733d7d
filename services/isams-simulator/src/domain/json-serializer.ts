import type { RawElement } from './isams-lib';
import type { LayoutModule } from './document-layout';

const CHUNK_CHARS = 64 * 1024;

type JsonValue = string | null | JsonObject | JsonValue[];
interface JsonObject {
  [key: string]: JsonValue;
}

/**
 * Json.NET `SerializeXmlNode` conventions (reference §3.1): attributes as `@name`, text as `#text`
 * when the element also has attributes or children, a plain string when it has only text, `null`
 * when empty, and repeated children grouped into one array at the first one's position.
 */
export function elementToJsonValue(e: RawElement): JsonValue {
  const attributeNames = Object.keys(e.attributes);
  if (attributeNames.length === 0 && e.children.length === 0) return e.text ?? null;
  const out: JsonObject = {};
  for (const k of attributeNames) out[`@${k}`] = e.attributes[k] as string;
  if (e.text !== undefined) out['#text'] = e.text;
  Object.assign(out, childrenToJson(e.children));
  return out;
}

function childrenToJson(children: readonly RawElement[]): JsonObject {
  const groups = new Map<string, JsonValue[]>();
  for (const c of children) {
    const list = groups.get(c.name);
    if (list) list.push(elementToJsonValue(c));
    else groups.set(c.name, [elementToJsonValue(c)]);
  }
  const out: JsonObject = {};
  for (const [name, values] of groups) out[name] = values.length === 1 ? (values[0] as JsonValue) : values;
  return out;
}

/**
 * Renders the JSON (`json.ashx`) form of the document in ~64 KB chunks.
 * ASSUMED ([U] in reference §3.1): no `"?xml"` property; empty elements are `null` ([I] there).
 */
export function* renderJson(layout: readonly LayoutModule[]): Generator<string> {
  let buffer = '{"iSAMS":{';
  for (const [mi, m] of layout.entries()) {
    buffer += `${mi > 0 ? ',' : ''}${JSON.stringify(m.module)}:{`;
    for (const [ci, c] of m.containers.entries()) {
      buffer += `${ci > 0 ? ',' : ''}${JSON.stringify(c.container)}:`;
      if (c.rows.length === 0) {
        buffer += 'null';
        continue;
      }
      const many = c.rows.length > 1;
      buffer += `{${JSON.stringify((c.rows[0] as RawElement).name)}:${many ? '[' : ''}`;
      for (const [ri, row] of c.rows.entries()) {
        buffer += `${ri > 0 ? ',' : ''}${JSON.stringify(elementToJsonValue(row))}`;
        if (buffer.length >= CHUNK_CHARS) {
          yield buffer;
          buffer = '';
        }
      }
      buffer += `${many ? ']' : ''}}`;
    }
    buffer += '}';
  }
  yield `${buffer}}}`;
}
