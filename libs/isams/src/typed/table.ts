/**
 * The declarative description of an iSAMS dataset's records: where each field sits in the row
 * (attribute or element path, with fallbacks), what kind of value it holds, and whether the record's
 * identity depends on it. The typed reader (`readRecord`) and the roster's normaliser both work from
 * these tables. The 13 tables (Academic and Boarding Houses share one) are data,
 * `libs/isams/datasets/*.yaml`, from which `tools/codegen/gen-dataset-tables.ts` generates
 * `generated/tables.ts`.
 */

/**
 * Where a value is read, relative to the row (or list item / group) element:
 * `@Id` an attribute; `Forename` a child element's text; `Address/Town` a nested element's text.
 * Names match case-insensitively (exact case preferred), as iSAMS spells some differently per dataset.
 */
export type Source = string;

/**
 * How a value is read and when it counts as unreadable:
 * - `text`: trimmed text; blank (empty, whitespace, `&#x20;`) = no value.
 * - `id`: a whole number as iSAMS ids are (`-2` is a valid NC year), trimmed and without leading
 *   zeros; blank = no value; anything else is unreadable.
 * - `bool`: `1`/`0`, `True`/`False`, `Y`/`N`, `Yes`/`No` (any case); blank or anything else is
 *   unreadable (a bit column is never an empty string).
 * - `date`: `YYYY-MM-DD`, optionally `THH:MM[:SS[.fff]]` and a zone, a real calendar date; kept as
 *   sent (trimmed); blank = no value (`<LastUpdated></LastUpdated>` is normal); anything else unreadable.
 * - `emails`: the text split on `;`, `,` and whitespace (always a list).
 * - `texts`: the texts of every child element of the source element (always a list).
 * - `list`: repeated items `Container/Item`, each read with its own table (always a list).
 * - `group`: one nested element read with its own table (always an object).
 * For every scalar kind, an element that holds child elements instead of text, or that appears twice
 * with different values, is unreadable; so is, for every kind, a value that is not valid text
 * (U+FFFD from bytes that are not UTF-8 or from a control character in XML, or a lone surrogate).
 */
export type FieldKind = 'text' | 'id' | 'bool' | 'date' | 'emails' | 'texts' | 'list' | 'group';

interface FieldBase {
  /** Sources tried in order; the first readable non-blank value wins (modern attribute, then Legacy element). */
  readonly from: readonly Source[];
  /** The name an iSAMS administrator recognises (used in findings), e.g. "Teaching Staff". */
  readonly label: string;
  /** How to fix an unreadable value in iSAMS; a default per kind is used when absent. */
  readonly fix?: string;
}

/** A scalar field. */
export interface ScalarField extends FieldBase {
  readonly kind: 'text' | 'id' | 'date';
  /**
   * `required`: the record (or list item) cannot be matched without it — missing or unreadable
   * means the record is left out. `ifPresent`: may be absent, but an unreadable value means the
   * record cannot be matched (e.g. a contact's PersonId, which keys the person).
   */
  readonly identity?: 'required' | 'ifPresent';
}

/** A yes/no field. */
export interface BoolField extends FieldBase {
  readonly kind: 'bool';
  /** Value when the field is absent (NULL) — never used for an unreadable value. */
  readonly absent?: boolean;
}

/** A list of strings derived from one text (`emails`) or the texts of an element's children (`texts`). */
export interface StringListField extends FieldBase {
  readonly kind: 'emails' | 'texts';
}

/** Repeated nested items (`Roles/Role`), each read with `item`. */
export interface ListField<T extends FieldTable = FieldTable> extends FieldBase {
  readonly kind: 'list';
  /** `[container, item]` element names, e.g. `['Roles', 'Role']`; a missing container = no items. */
  readonly from: readonly [string, string];
  readonly item: T;
}

/** One nested element (`Address`) read with `fields`. */
export interface GroupField<T extends FieldTable = FieldTable> extends FieldBase {
  readonly kind: 'group';
  readonly from: readonly [string];
  readonly fields: T;
}

export type FieldSpec = ScalarField | BoolField | StringListField | ListField | GroupField;
export type FieldTable = Readonly<Record<string, FieldSpec>>;

/** One dataset's table. */
export interface DatasetTable<T extends FieldTable = FieldTable> {
  /** Where an administrator finds such a record in iSAMS, e.g. "HR Manager › Staff Manager". */
  readonly where: string;
  readonly fields: T;
}

/** Declares a table, keeping its literal types (kinds, identity flags) for {@link TypedOf}. */
export function defineTable<const T extends FieldTable>(table: DatasetTable<T>): DatasetTable<T> {
  return table;
}

type ValueOf<F> = F extends { kind: 'bool' }
  ? boolean
  : F extends { kind: 'emails' | 'texts' }
    ? string[]
    : F extends { kind: 'list'; item: infer T extends FieldTable }
      ? TypedOf<T>[]
      : F extends { kind: 'group'; fields: infer T extends FieldTable }
        ? TypedOf<T>
        : string;

/** Fields always present in a typed record: required identity, lists and groups. */
type Always<F> = F extends { identity: 'required' } | { kind: 'emails' | 'texts' | 'list' | 'group' }
  ? true
  : false;

type Simplify<T> = { [K in keyof T]: T[K] } & {};

/**
 * The typed record a table produces: required identity fields are strings; lists and groups are
 * always there (possibly empty); every other field is optional — `undefined` when absent, blank or
 * unreadable (the read result says which are unreadable).
 */
export type TypedOf<T extends FieldTable> = Simplify<
  { -readonly [K in keyof T as Always<T[K]> extends true ? K : never]: ValueOf<T[K]> } & {
    -readonly [K in keyof T as Always<T[K]> extends true ? never : K]?: ValueOf<T[K]> | undefined;
  }
>;

/**
 * Paths that can be reported unreadable: a field (`teachingStaff`, `roles` — a list with an item
 * that could not be identified), a list item's field (`teachers.primaryTeacher`) or a group's field
 * (`address.town`).
 */
export type FieldPath<T extends FieldTable> = {
  [K in keyof T & string]: T[K] extends { kind: 'list'; item: infer I extends FieldTable }
    ? K | `${K}.${keyof I & string}`
    : T[K] extends { kind: 'group'; fields: infer G extends FieldTable }
      ? K | `${K}.${keyof G & string}`
      : K;
}[keyof T & string];
