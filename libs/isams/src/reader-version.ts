/**
 * The version of this library's reading of a Batch API document: the parse events (datasets,
 * records, findings, `end`) that the same bytes give. A caller that keeps what it made of a body by
 * the body's hash (the connector's byte-identical skip) keys it by this too, so a reader that reads
 * the same bytes differently never stands behind an old reading.
 *
 * Bump it with any change to the events the parsers yield for the same input;
 * `test/reader-version.test.ts` holds a digest of the fixtures' events and fails until it is bumped.
 */
// 2: a JSON body without an `iSAMS` object (`{}`, an ASP.NET `{"Message": "…"}`) is refused; it read
// as a complete document with every dataset absent, and a skip keyed by version 1 would keep reusing
// such a reading for the same bytes.
export const ISAMS_READER_VERSION = 2;
