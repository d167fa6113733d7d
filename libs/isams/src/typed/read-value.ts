import { ID_MAX_CHARS } from '../datasets';
import type { RawElement } from '../raw-element';
import { attr, clean } from './raw-access';

/** Why a value cannot be read (`problem` never contains personal data: only ids and yes/no values are quoted). */
export class Unreadable {
  constructor(
    readonly problem: string,
    /** The value holds characters that are not text (see {@link NOT_TEXT}): it has to be retyped in iSAMS. */
    readonly notText = false,
  ) {}
}

/**
 * A value with characters that are not text. Invalid UTF-8 bytes are decoded as U+FFFD (the
 * replacement character), so is a control character in an XML document (`&#x0B;`: the XML reader),
 * a JSON `\ud800` escape gives a lone surrogate, and a JSON `\u0000` or `\u000b` escape the C0
 * control itself (PostgreSQL, under FerretDB, cannot even store U+0000); either way part of the value
 * was lost or is not what anyone typed, so it is unreadable (its stored value stays) rather than a
 * new name. U+FFFD is never real text in iSAMS: where it was stored as such, the value was damaged
 * before.
 */
export const NOT_TEXT = new Unreadable(
  'is not valid text (some of its characters arrived as bytes that are not UTF-8, or as control characters)',
  true,
);

// The C0 controls XML 1.0 does not allow (all but tab, LF and CR).
const CONTROLS = '\\u0000-\\u0008\\u000b\\u000c\\u000e-\\u001f';
// Those and U+FFFD: one native regex test.
const NOT_TEXT_CHAR = new RegExp(`[${CONTROLS}\\ufffd]`);
const CONTROL_CHAR = new RegExp(`[${CONTROLS}]`, 'g');

/**
 * `text` as the XML reader would have read it: each control character {@link isText} refuses (a JSON
 * escape) as U+FFFD — for names and ids quoted in a finding, so that it can be stored (PostgreSQL
 * refuses U+0000) and reads the same from either endpoint.
 */
export function asXmlReads(text: string): string {
  return text.replace(CONTROL_CHAR, '\uFFFD');
}

/**
 * Whether `text` is text: no U+FFFD, no lone surrogate, no C0 control other than tab, LF and CR.
 * Test the value as received, before trimming: `trim()` drops U+000B and U+000C at the ends.
 */
export function isText(text: string): boolean {
  return !NOT_TEXT_CHAR.test(text) && text.isWellFormed();
}

const TOO_LONG = new Unreadable(`is longer than the ${ID_MAX_CHARS} characters an id may have`);

/** `id` as read, or unreadable when it is longer than `ID_MAX_CHARS` (`../datasets`). */
export function checkIdLength(id: string): string | Unreadable {
  return id.length > ID_MAX_CHARS ? TOO_LONG : id;
}

/** Nothing at the source (NULL: the element or attribute is omitted). */
export const ABSENT = Symbol('absent');
/** The source is there but blank (empty, whitespace, `&#x20;`). */
export const BLANK = Symbol('blank');

/** What one source holds: its trimmed text, {@link ABSENT}, {@link BLANK} or {@link Unreadable}. */
export type SourceRead = string | typeof ABSENT | typeof BLANK | Unreadable;

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

const HOLDS_ELEMENTS = new Unreadable('holds elements instead of a value');

/** The text at a source (`@Attr`, `Element`, `A/B`), checking the element's shape. */
export function readSource(el: RawElement, source: string): SourceRead {
  if (source.charCodeAt(0) === 64 /* @ */) {
    const v = attr(el, source.slice(1));
    if (v === undefined) return ABSENT;
    if (!isText(v)) return NOT_TEXT;
    return clean(v) ?? BLANK;
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
  // Inline over the children (no array per lookup: this runs for every field of every record).
  const l = lower(leaf);
  let seen = 0;
  let value: string | undefined;
  let conflict = false;
  let notText = false;
  for (const c of parent.children) {
    if (c.name !== leaf && (c.name.length !== leaf.length || c.name.toLowerCase() !== l)) continue;
    seen += 1;
    if (c.children.length > 0) return HOLDS_ELEMENTS;
    if (c.text !== undefined && !isText(c.text)) notText = true;
    const text = clean(c.text);
    if (text === undefined) continue;
    if (value !== undefined && value !== text) conflict = true;
    value ??= text;
  }
  if (seen === 0) return ABSENT;
  if (conflict) return new Unreadable(`appears ${seen} times with different values`);
  if (notText) return NOT_TEXT;
  return value ?? BLANK;
}

const quote = (text: string): string => JSON.stringify(text.length > 24 ? `${text.slice(0, 24)}…` : text);

/**
 * iSAMS ids and numbers: whole numbers, possibly negative (NC years), without leading zeros, at most
 * `ID_MAX_CHARS` characters so written.
 */
export function parseId(text: string): string | Unreadable {
  const m = /^(-?)0*(\d+)$/.exec(text);
  if (!m) return new Unreadable(`is ${quote(text)}, not a whole-number id`);
  if (m[2] === '0') return '0';
  return checkIdLength(m[1]!.length + m[2]!.length === text.length ? text : `${m[1]}${m[2]}`);
}

const TRUE = new Set(['1', 'true', 'y', 'yes']);
const FALSE = new Set(['0', 'false', 'n', 'no']);

/** iSAMS booleans: `1`/`0` in some datasets, `True`/`False` in others; `Y`/`N`, `Yes`/`No` tolerated. */
export function parseBool(text: string): boolean | Unreadable {
  const v = text.toLowerCase();
  if (TRUE.has(v)) return true;
  if (FALSE.has(v)) return false;
  return new Unreadable(`is ${quote(text)}, not a yes/no value (1/0 or True/False)`);
}

const DATE =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d{1,7})?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
const BAD_DATE = new Unreadable('is not a valid date (expected YYYY-MM-DDTHH:MM:SS)');

/** iSAMS dates (`YYYY-MM-DDTHH:MM:SS`, date-only tolerated), kept as sent when they name a real time. */
export function parseDate(text: string): string | Unreadable {
  const m = DATE.exec(text);
  if (!m) return BAD_DATE;
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  const days = month === 2 && leap ? 29 : DAYS[month - 1];
  if (days === undefined || day < 1 || day > days) return BAD_DATE;
  if (m[4] !== undefined && (Number(m[4]) > 23 || Number(m[5]) > 59 || Number(m[6] ?? 0) > 59))
    return BAD_DATE;
  return text;
}
