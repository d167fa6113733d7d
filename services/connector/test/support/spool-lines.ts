/** The lines of a spooled chunk (UTF-8, each line ending with `\n`). */
export function linesOf(chunk: Uint8Array): string[] {
  const text = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).toString('utf8');
  return text === '' ? [] : text.slice(0, -1).split('\n');
}
