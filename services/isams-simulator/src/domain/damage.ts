/**
 * Byte-level damage for the `truncated` and `malformed` faults. Both pick a point in the middle of
 * the document inside a record, so a client sees a cut or broken row, not a clean boundary.
 */
function midRecordOffset(body: string, format: 'xml' | 'json'): number {
  const marker = format === 'xml' ? '><' : '},{';
  const at = body.indexOf(marker, Math.floor(body.length / 2));
  return at === -1 ? Math.floor(body.length / 2) : at + marker.length + 3;
}

/** The first part of the document, cut mid-record (always at an ASCII character). */
export function truncateDocument(body: string, format: 'xml' | 'json'): string {
  let cut = midRecordOffset(body, format);
  while (cut > 0 && body.charCodeAt(cut - 1) > 0x7f) cut -= 1;
  return body.slice(0, cut);
}

/** The document with a broken construct injected mid-record (unclosed tag / stray token). */
export function malformDocument(body: string, format: 'xml' | 'json'): string {
  const at =
    format === 'xml'
      ? body.indexOf('><', Math.floor(body.length / 2)) + 1
      : body.indexOf('},{', Math.floor(body.length / 2)) + 1;
  const point = at > 0 ? at : Math.floor(body.length / 2);
  const injected = format === 'xml' ? '</NotOpened><Broken attr=novalue>' : ',,"broken":}';
  return body.slice(0, point) + injected + body.slice(point);
}
