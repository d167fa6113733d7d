import type { RawElement } from '../raw-element';
import { attr, clean } from './raw-access';

/** The outcome of reading one source: nothing there, a blank value, a value, or why it is unreadable. */
export type SourceRead =
  | { state: 'absent' }
  | { state: 'blank' }
  | { state: 'value'; text: string }
  | { state: 'unreadable'; problem: string };

const ABSENT: SourceRead = { state: 'absent' };
const BLANK: SourceRead = { state: 'blank' };
const NONE: readonly RawElement[] = [];
const lowered = new Map<string, string>();
const lower = (name: string): string => {
  let l = lowered.get(name);
  if (l === undefined) lowered.set(name, (l = name.toLowerCase()));
  return l;
};

/**
 * The children of `el` named `name`, case-insensitively. Table names are few and constant, so their
 * lower case is cached; a child's name is lower-cased only when its length matches.
 */
export function childrenNamed(el: RawElement, name: string): readonly RawElement[] {
  const l = lower(name);
  let out: RawElement[] | undefined;
  for (const c of el.children) {
    if (c.name === name || (c.name.length === name.length && c.name.toLowerCase() === l))
      (out ??= []).push(c);
  }
  return out ?? NONE;
}

/** The first child named `name`: exact case preferred, as `child()` does. */
function first(el: RawElement, name: string): RawElement | undefined {
  const found = childrenNamed(el, name);
  return found.find((c) => c.name === name) ?? found[0];
}

const split = new Map<string, readonly string[]>();

/** The text at a source (`@Attr`, `Element`, `A/B`), checking the element's shape. */
export function readSource(el: RawElement, source: string): SourceRead {
  if (source.charCodeAt(0) === 64 /* @ */) {
    const v = attr(el, source.slice(1));
    if (v === undefined) return ABSENT;
    const c = clean(v);
    return c === undefined ? BLANK : { state: 'value', text: c };
  }
  let parent: RawElement | undefined = el;
  let leaf = source;
  if (source.includes('/')) {
    let parts = split.get(source);
    if (parts === undefined) split.set(source, (parts = source.split('/')));
    for (let i = 0; i < parts.length - 1 && parent !== undefined; i += 1) parent = first(parent, parts[i]!);
    if (parent === undefined) return ABSENT;
    leaf = parts[parts.length - 1]!;
  }
  const found = childrenNamed(parent, leaf);
  if (found.length === 0) return ABSENT;
  let value: string | undefined;
  for (const f of found) {
    if (f.children.length > 0) return { state: 'unreadable', problem: 'holds elements instead of a value' };
    const c = clean(f.text);
    if (c === undefined) continue;
    if (value !== undefined && value !== c)
      return { state: 'unreadable', problem: `appears ${found.length} times with different values` };
    value = c;
  }
  return value === undefined ? BLANK : { state: 'value', text: value };
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
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** iSAMS dates (`YYYY-MM-DDTHH:MM:SS`, date-only tolerated), kept as sent when they name a real time. */
export function parseDate(text: string): Parsed<string> {
  const m = DATE.exec(text);
  const bad = { ok: false as const, problem: 'is not a valid date (expected YYYY-MM-DDTHH:MM:SS)' };
  if (!m) return bad;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS[month - 1];
  if (days === undefined || day < 1 || day > days) return bad;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59)) return bad;
  return { ok: true, value: text };
}
