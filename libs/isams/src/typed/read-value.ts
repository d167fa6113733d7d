import type { RawElement } from '../raw-element';
import { attr, clean } from './raw-access';

/** The first child named `name`: exact case preferred, as `child()` does. */
function first(el: RawElement, name: string): RawElement | undefined {
  const found = childrenNamed(el, name);
  return found.find((c) => c.name === name) ?? found[0];
}

/** The outcome of reading one source: nothing there, a blank value, a value, or why it is unreadable. */
export type SourceRead =
  | { state: 'absent' }
  | { state: 'blank' }
  | { state: 'value'; text: string }
  | { state: 'unreadable'; problem: string };

const byName = new WeakMap<RawElement, Map<string, RawElement[]>>();

/** The children of `el` named `name`, case-insensitively (an index per element, built once). */
export function childrenNamed(el: RawElement, name: string): readonly RawElement[] {
  let index = byName.get(el);
  if (index === undefined) {
    index = new Map();
    for (const c of el.children) {
      const key = c.name.toLowerCase();
      const list = index.get(key);
      if (list === undefined) index.set(key, [c]);
      else list.push(c);
    }
    byName.set(el, index);
  }
  return index.get(name.toLowerCase()) ?? [];
}

/** The text at a source (`@Attr`, `Element`, `A/B`), checking the element's shape. */
export function readSource(el: RawElement, source: string): SourceRead {
  if (source.startsWith('@')) {
    const v = attr(el, source.slice(1));
    if (v === undefined) return { state: 'absent' };
    const c = clean(v);
    return c === undefined ? { state: 'blank' } : { state: 'value', text: c };
  }
  const parts = source.split('/');
  let parent: RawElement | undefined = el;
  for (const p of parts.slice(0, -1)) parent = parent && first(parent, p);
  if (parent === undefined) return { state: 'absent' };
  const found = childrenNamed(parent, parts[parts.length - 1]!);
  if (found.length === 0) return { state: 'absent' };
  if (found.some((f) => f.children.length > 0))
    return { state: 'unreadable', problem: 'holds elements instead of a value' };
  const values = [...new Set(found.map((f) => clean(f.text)).filter((v): v is string => v !== undefined))];
  if (values.length > 1)
    return { state: 'unreadable', problem: `appears ${found.length} times with different values` };
  return values.length === 0 ? { state: 'blank' } : { state: 'value', text: values[0]! };
}

/** A parsed value, or why the text is not one (only non-personal kinds quote the text). */
export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };

const quote = (text: string): string => JSON.stringify(text.length > 24 ? `${text.slice(0, 24)}…` : text);

/** iSAMS ids and numbers: whole numbers, possibly negative (NC years), without leading zeros. */
export function parseId(text: string): Parsed<string> {
  const m = /^(-?)0*(\d+)$/.exec(text);
  if (!m) return { ok: false, problem: `is ${quote(text)}, not a whole-number id` };
  return { ok: true, value: m[2] === '0' ? '0' : `${m[1]}${m[2]}` };
}

const TRUE = new Set(['1', 'true', 'y', 'yes']);
const FALSE = new Set(['0', 'false', 'n', 'no']);

/** iSAMS booleans: `1`/`0` in some datasets, `True`/`False` in others; `Y`/`N`, `Yes`/`No` tolerated. */
export function parseBool(text: string): Parsed<boolean> {
  const v = text.toLowerCase();
  if (TRUE.has(v)) return { ok: true, value: true };
  if (FALSE.has(v)) return { ok: true, value: false };
  return { ok: false, problem: `is ${quote(text)}, not a yes/no value (1/0 or True/False)` };
}

const DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;

/** iSAMS dates (`YYYY-MM-DDTHH:MM:SS`, date-only tolerated), kept as sent when they name a real time. */
export function parseDate(text: string): Parsed<string> {
  const m = DATE.exec(text);
  const bad = { ok: false as const, problem: 'is not a valid date (expected YYYY-MM-DDTHH:MM:SS)' };
  if (!m) return bad;
  const [year, month, day, hour, minute, second] = m.slice(1).map((x) => (x === undefined ? 0 : Number(x)));
  const daysInMonth = new Date(Date.UTC(year!, month!, 0)).getUTCDate();
  if (
    month! < 1 ||
    month! > 12 ||
    day! < 1 ||
    day! > daysInMonth ||
    hour! > 23 ||
    minute! > 59 ||
    second! > 59
  )
    return bad;
  return { ok: true, value: text };
}
