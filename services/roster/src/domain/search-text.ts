import type { RosterEntityType } from '@isams-sync/events';
import type { RosterEntity } from './roster-model';

const SEARCH_FIELDS = [
  'forename',
  'middleName',
  'middleNames',
  'surname',
  'preferredName',
  'fullName',
  'userName',
  'name',
  'code',
  'setCode',
  'userCode',
  'initials',
  'schoolId',
  'schoolCode',
  'email',
];

/**
 * A name as the roster compares names: compatibility-decomposed (NFKD) so composed and decomposed
 * accents agree, combining marks removed, lower-cased, white space collapsed; undefined when blank.
 * The same folding as the school identity check's (school-identity.ts), which can share it.
 */
export function foldName(v: unknown): string | undefined {
  return typeof v === 'string' && v.trim() !== ''
    ? v.normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase().replace(/\s+/g, ' ').trim()
    : undefined;
}

/** Apostrophes, straight and typographic (removed before NFKD: it turns ´ into a space and a mark). */
const APOSTROPHES = /['’‘`´ʼ＇]/gu;
/** Letters NFKD leaves whole, as they are typed without their stroke or ligature. */
const PLAIN_LETTERS: Readonly<Record<string, string>> = { ß: 'ss', æ: 'ae', œ: 'oe', ø: 'o', ł: 'l', đ: 'd' };

/**
 * Text as the Search RPCs compare it: {@link foldName}, apostrophes removed ("O’Neill" = "oneill"),
 * ß/æ/œ/ø/ł/đ spelt out, and every other character that is not a letter or digit (punctuation,
 * hyphens, `@`, `.`) a word break; words separated by one space, '' when nothing is left.
 */
export function foldSearch(text: string): string {
  return (foldName(text.replace(APOSTROPHES, '')) ?? '')
    .replace(/[ßæœøłđ]/gu, (c) => PLAIN_LETTERS[c] ?? c)
    .replace(/[^\p{L}\p{N}]+/gu, ' ')
    .trim();
}

/** The folded words of a search query; none for a blank query (or one of punctuation only): no filter. */
export function searchWords(query: string | undefined): string[] {
  const folded = query === undefined ? '' : foldSearch(query);
  return folded === '' ? [] : folded.split(' ');
}

/**
 * Does the {@link searchText} hold every word, in any order? Each word may be part of a word of the
 * text, so a partial name, e-mail address or id matches.
 */
export function matchesWords(text: string, words: readonly string[]): boolean {
  return words.every((w) => text.includes(w));
}

/**
 * Folded ({@link foldSearch}) text the Search RPCs match against: the id, names (middle and
 * preferred names included), user name, codes and e-mail addresses.
 */
export function searchText(_entityType: RosterEntityType, data: RosterEntity): string {
  const parts = [data.id, ...SEARCH_FIELDS.map((f) => data[f])].filter(
    (v): v is string => typeof v === 'string' && v.length > 0,
  );
  if (Array.isArray(data.emails))
    parts.push(...data.emails.filter((e): e is string => typeof e === 'string'));
  return foldSearch(parts.join(' '));
}
