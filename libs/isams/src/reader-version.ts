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
// 3: a body is decoded in the charset its Content-Type names (it read as UTF-8: names unreadable or
// other letters), and text where a dataset's rows belong refuses the document (it was dropped, and a
// row damaged into text read as removed). An element directly inside a dataset's container that is
// not its row (`<Pupl>` beside the `<Pupil>` rows, a JSON key beside "Pupil") is also passed on as a
// record with its name only, no identity (it was only a finding, and the row it may stand for read as
// removed); an array inside a JSON row list is a record without identity (it was dropped). Also in
// 3 (the same release, session 51): Json.NET's list of text pieces beside the rows refuses the
// document, and an ASCII charset label is read as UTF-8.
export const ISAMS_READER_VERSION = 3;
