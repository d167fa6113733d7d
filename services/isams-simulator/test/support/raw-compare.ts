import type { RawElement } from '../../src/domain/isams-lib';

type Json = string | null | Json[] | { [k: string]: Json };

/** Inverse of the Json.NET conventions, for checking the JSON serializer without the client. */
export function jsonToElements(name: string, value: Json): RawElement[] {
  if (Array.isArray(value)) return value.flatMap((v) => jsonToElements(name, v));
  if (value === null) return [{ name, attributes: {}, children: [] }];
  if (typeof value === 'string')
    return [
      value === ''
        ? { name, attributes: {}, children: [] }
        : { name, attributes: {}, text: value, children: [] },
    ];
  const attributes: Record<string, string> = {};
  const children: RawElement[] = [];
  let text: string | undefined;
  for (const [k, v] of Object.entries(value)) {
    if (k.startsWith('@')) attributes[k.slice(1)] = v as string;
    else if (k === '#text') text = v as string;
    else children.push(...jsonToElements(k, v));
  }
  return [text === undefined ? { name, attributes, children } : { name, attributes, text, children }];
}

/** Children sorted by name (stable within a name): JSON loses the order between different names. */
export function canonical(e: RawElement): RawElement {
  const children = e.children.map(canonical).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  return { ...e, children };
}
