import { DATASETS, DATASET_IDS } from './isams-lib';
import type { DatasetId, RawElement } from './isams-lib';

/** Error for a document the simulator cannot load (stable code for the admin API). */
export class XmlReadError extends Error {
  readonly code = 'SIM_XML_INVALID';
}

const ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

function decode(text: string): string {
  return text.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|\w+);/g, (whole, ref: string) => {
    if (ref.startsWith('#x')) return String.fromCodePoint(parseInt(ref.slice(2), 16));
    if (ref.startsWith('#')) return String.fromCodePoint(parseInt(ref.slice(1), 10));
    const v = ENTITIES[ref];
    if (v === undefined) throw new XmlReadError(`Unknown entity ${whole}`);
    return v;
  });
}

interface Building {
  name: string;
  attributes: Record<string, string>;
  text: string;
  hasText: boolean;
  children: RawElement[];
}

function finish(b: Building): RawElement {
  // Indentation between child elements of a pretty-printed file is not data.
  const keepText = b.hasText && !(b.children.length > 0 && b.text.trim() === '');
  return keepText
    ? { name: b.name, attributes: b.attributes, text: b.text, children: b.children }
    : { name: b.name, attributes: b.attributes, children: b.children };
}

/** A small non-validating XML reader for loading a school from a Batch API XML file. */
export function readXml(xml: string): RawElement {
  const stack: Building[] = [];
  let root: RawElement | undefined;
  let i = xml.charCodeAt(0) === 0xfeff ? 1 : 0;
  const tagPattern = /<([^\s/>]+)((?:\s+[^\s=/>]+\s*=\s*(?:"[^"]*"|'[^']*'))*)\s*(\/?)>/y;
  const attrPattern = /([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  while (i < xml.length) {
    const lt = xml.indexOf('<', i);
    const textEnd = lt === -1 ? xml.length : lt;
    if (textEnd > i) {
      const top = stack[stack.length - 1];
      const raw = xml.slice(i, textEnd);
      if (top) {
        top.text += decode(raw);
        top.hasText = true;
      } else if (raw.trim() !== '') throw new XmlReadError('Text outside the root element');
    }
    if (lt === -1) break;
    if (xml.startsWith('<?', lt)) {
      i = xml.indexOf('?>', lt) + 2;
    } else if (xml.startsWith('<!--', lt)) {
      i = xml.indexOf('-->', lt) + 3;
    } else if (xml.startsWith('<![CDATA[', lt)) {
      const end = xml.indexOf(']]>', lt);
      const top = stack[stack.length - 1];
      if (!top || end === -1) throw new XmlReadError('Bad CDATA section');
      top.text += xml.slice(lt + 9, end);
      top.hasText = true;
      i = end + 3;
    } else if (xml.startsWith('</', lt)) {
      const end = xml.indexOf('>', lt);
      const name = xml.slice(lt + 2, end).trim();
      const top = stack.pop();
      if (!top || top.name !== name) throw new XmlReadError(`Mismatched closing tag </${name}>`);
      const done = finish(top);
      const parent = stack[stack.length - 1];
      if (parent) parent.children.push(done);
      else root = done;
      i = end + 1;
    } else {
      tagPattern.lastIndex = lt;
      const m = tagPattern.exec(xml);
      if (!m) throw new XmlReadError(`Malformed tag at offset ${lt}`);
      const attributes: Record<string, string> = {};
      for (const a of (m[2] ?? '').matchAll(attrPattern))
        attributes[a[1] as string] = decode(a[2] ?? a[3] ?? '');
      const b: Building = { name: m[1] as string, attributes, text: '', hasText: false, children: [] };
      if (m[3] === '/') {
        const parent = stack[stack.length - 1];
        if (parent) parent.children.push(finish(b));
        else root = finish(b);
      } else stack.push(b);
      i = lt + m[0].length;
    }
    if (i <= 0) throw new XmlReadError('Unterminated markup');
  }
  if (stack.length > 0 || !root) throw new XmlReadError('Unexpected end of document');
  return root;
}

/** The rows of each dataset present in a Batch API document; absent datasets are left out. */
export function rowsFromDocument(root: RawElement): Partial<Record<DatasetId, RawElement[]>> {
  if (root.name !== 'iSAMS') throw new XmlReadError(`Root element is <${root.name}>, expected <iSAMS>`);
  const out: Partial<Record<DatasetId, RawElement[]>> = {};
  for (const id of DATASET_IDS) {
    const d = DATASETS[id];
    for (const m of root.children.filter((c) => c.name === d.module)) {
      for (const c of m.children.filter((x) => x.name === d.container)) {
        out[id] = [...(out[id] ?? []), ...c.children.filter((r) => r.name === d.row)];
      }
    }
  }
  return out;
}
