import type { RawElement } from '../raw-element';

/** Attribute value by name, case-insensitively (exact match preferred). */
export function attr(el: RawElement, name: string): string | undefined {
  const exact = el.attributes[name];
  if (exact !== undefined) return exact;
  const lower = name.toLowerCase();
  for (const key in el.attributes) {
    if (key.length === name.length && key.toLowerCase() === lower) return el.attributes[key];
  }
  return undefined;
}

/** First child element by name, case-insensitively (exact match preferred). */
export function child(el: RawElement, name: string): RawElement | undefined {
  const lower = name.toLowerCase();
  let loose: RawElement | undefined;
  for (const c of el.children) {
    if (c.name === name) return c;
    if (loose === undefined && c.name.toLowerCase() === lower) loose = c;
  }
  return loose;
}

/** All child elements with this name, case-insensitively. */
export function children(el: RawElement, name: string): RawElement[] {
  const lower = name.toLowerCase();
  return el.children.filter((c) => c.name.toLowerCase() === lower);
}

/** Trimmed text; `undefined` for absent, empty or whitespace-only. */
export function clean(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const trimmed = value.trim();
  return trimmed.length === 0 ? undefined : trimmed;
}

/** Trimmed text of a child element (case-insensitive name); `undefined` when absent/blank. */
export function text(el: RawElement, name: string): string | undefined {
  const c = child(el, name);
  return c === undefined ? undefined : clean(c.text);
}

/** Modern attribute preferred, `Legacy` (or plain) element of the same or given name as fallback. */
export function attrOrElement(
  el: RawElement,
  attribute: string,
  element: string = attribute,
): string | undefined {
  return clean(attr(el, attribute)) ?? text(el, element);
}

/** The element at a `/`-separated path of child names, case-insensitively. */
export function at(el: RawElement, path: string): RawElement | undefined {
  let cur: RawElement | undefined = el;
  for (const part of path.split('/')) {
    if (cur === undefined) return undefined;
    cur = child(cur, part);
  }
  return cur;
}
