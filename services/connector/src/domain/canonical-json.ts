import type { RawElement } from '@isams-sync/isams';

/**
 * How many element names and attribute names keep their JSON encoding cached. A Batch API document
 * uses a few hundred; past the limit (a hostile document with millions of distinct names) names are
 * encoded each time, so memory stays bounded.
 */
const ENCODED_NAMES_LIMIT = 4096;
const openings = new Map<string, string>();
const attributeKeys = new Map<string, string>();

/** `{"name":<name>,"attributes":{` for an element name. */
function openingOf(name: string): string {
  let opening = openings.get(name);
  if (opening === undefined) {
    opening = `{"name":${JSON.stringify(name)},"attributes":{`;
    if (openings.size < ENCODED_NAMES_LIMIT) openings.set(name, opening);
  }
  return opening;
}

/** `<key>:` for an attribute name. */
function keyOf(key: string): string {
  let encoded = attributeKeys.get(key);
  if (encoded === undefined) {
    encoded = `${JSON.stringify(key)}:`;
    if (attributeKeys.size < ENCODED_NAMES_LIMIT) attributeKeys.set(key, encoded);
  }
  return encoded;
}

/**
 * The version of {@link canonicalRawJson}'s text: part of the reading a document's summary is kept
 * under (the byte-identical skip). The text is pinned byte for byte by its test; a deliberate change
 * bumps this.
 */
export const CANONICAL_JSON_VERSION = 1;

/**
 * Canonical JSON of a raw record: keys in a fixed order (`name`, `attributes` sorted by name, `text`,
 * `children`), no whitespace. The fingerprint of a dataset is sha256 over these lines, so the same
 * data always hashes the same regardless of attribute order in the document. (Element and attribute
 * names are encoded once and reused: the same text as `JSON.stringify` gives, about half the cost.)
 */
export function canonicalRawJson(raw: RawElement): string {
  let out = openingOf(raw.name);
  const attributes = raw.attributes;
  const keys = Object.keys(attributes);
  if (keys.length > 1) keys.sort();
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (i > 0) out += ',';
    out += keyOf(k) + JSON.stringify(attributes[k]);
  }
  out += '}';
  if (raw.text !== undefined) out += `,"text":${JSON.stringify(raw.text)}`;
  out += ',"children":[';
  const children = raw.children;
  for (let i = 0; i < children.length; i++) {
    if (i > 0) out += ',';
    out += canonicalRawJson(children[i]!);
  }
  return `${out}]}`;
}
