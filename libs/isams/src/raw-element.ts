/**
 * A lossless, format-independent representation of one XML element of a Batch API document.
 *
 * Every record of every dataset is kept in this shape for replay: attributes, text and child
 * elements exactly as iSAMS sent them (no trimming, no type conversion). The JSON endpoint
 * (`json.ashx`, Json.NET `SerializeXmlNode` conventions) maps onto the same shape: `@name`
 * properties are attributes, `#text` is text, arrays are repeated children.
 *
 * Note: Json.NET groups repeated siblings into one array, so for JSON input the relative order
 * of differently named siblings is not recoverable; compare JSON-derived elements order-insensitively
 * across names.
 *
 * One exception to "exactly as sent": an element inside a dataset's container that is not its row
 * (`<Pupl Id="2">` beside the `<Pupil>` rows) is passed on with its name alone — no attributes, no
 * children — so that it reads as a record without an identity (`DocumentSink.notARow`).
 */
export interface RawElement {
  /** Element name exactly as sent (case preserved), e.g. `Pupil`, `Preferredname`. */
  readonly name: string;
  /** Attributes exactly as sent; values are strings. Empty object when none. */
  readonly attributes: Readonly<Record<string, string>>;
  /**
   * Concatenated character data directly inside this element (entities decoded, whitespace kept).
   * `undefined` when the element has no text (e.g. `<Title/>` or an element with only children).
   */
  readonly text?: string;
  /** Child elements in document order. Empty array when none. */
  readonly children: readonly RawElement[];
}

/**
 * The attributes and children of every element the readers build without any: one frozen object
 * and one frozen array shared by all of them (most of a row's elements are leaves; two allocations
 * fewer each). A {@link RawElement} is read-only, so nobody may write to them anyway.
 */
export const NO_ATTRIBUTES: Readonly<Record<string, string>> = Object.freeze({});
export const NO_CHILDREN: readonly RawElement[] = Object.freeze([]);
