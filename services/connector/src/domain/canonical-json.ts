import type { RawElement } from '@isams-sync/isams';

/**
 * Canonical JSON of a raw record: keys in a fixed order (`name`, `attributes` sorted by name, `text`,
 * `children`), no whitespace. The fingerprint of a dataset is sha256 over these lines, so the same
 * data always hashes the same regardless of attribute order in the document.
 */
export function canonicalRawJson(raw: RawElement): string {
  let out = `{"name":${JSON.stringify(raw.name)},"attributes":{`;
  const keys = Object.keys(raw.attributes).sort();
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    out += `${i > 0 ? ',' : ''}${JSON.stringify(k)}:${JSON.stringify(raw.attributes[k])}`;
  }
  out += '}';
  if (raw.text !== undefined) out += `,"text":${JSON.stringify(raw.text)}`;
  out += ',"children":[';
  for (let i = 0; i < raw.children.length; i++)
    out += `${i > 0 ? ',' : ''}${canonicalRawJson(raw.children[i]!)}`;
  return `${out}]}`;
}
