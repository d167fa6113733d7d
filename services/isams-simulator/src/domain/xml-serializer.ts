import type { RawElement } from './isams-lib';
import type { LayoutModule } from './document-layout';

const CHUNK_CHARS = 64 * 1024;

export function escapeText(text: string): string {
  const escaped = text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
  // SQL Server FOR XML entity-encodes a trailing space (`<Initials>&#x20;</Initials>`, reference §2.1).
  return escaped.endsWith(' ') ? `${escaped.slice(0, -1)}&#x20;` : escaped;
}

export function escapeAttribute(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
}

/** Serializes one element compactly (no indentation: FOR XML output has none). */
export function elementToXml(e: RawElement): string {
  let out = `<${e.name}`;
  for (const [k, v] of Object.entries(e.attributes)) out += ` ${k}="${escapeAttribute(v)}"`;
  if (e.text === undefined && e.children.length === 0) return `${out} />`;
  out += '>';
  if (e.text !== undefined) out += escapeText(e.text);
  for (const c of e.children) out += elementToXml(c);
  return `${out}</${e.name}>`;
}

/**
 * Renders a Batch API document in chunks of roughly 64 KB so a large school is never one string.
 * ASSUMED ([U] in reference §2.1): success responses carry no XML declaration (none in the samples).
 * ASSUMED ([U] in reference §1.4): an allocated dataset with no rows is an empty container `<Sets />`.
 */
export function* renderXml(layout: readonly LayoutModule[]): Generator<string> {
  let buffer = '<iSAMS>';
  for (const m of layout) {
    buffer += `<${m.module}>`;
    for (const c of m.containers) {
      if (c.rows.length === 0) {
        buffer += `<${c.container} />`;
        continue;
      }
      buffer += `<${c.container}>`;
      for (const row of c.rows) {
        buffer += elementToXml(row);
        if (buffer.length >= CHUNK_CHARS) {
          yield buffer;
          buffer = '';
        }
      }
      buffer += `</${c.container}>`;
    }
    buffer += `</${m.module}>`;
  }
  yield `${buffer}</iSAMS>`;
}
