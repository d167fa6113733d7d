/** Bytes looked at, at most, for a body's first character (whitespace a server put before it). */
const SNIFF_LIMIT = 4096;

/**
 * What the body really is, by its first character after a byte-order mark and whitespace: `<` is
 * XML, `{` or `[` JSON, anything else (or nothing within {@link SNIFF_LIMIT} bytes) what the
 * endpoint promised. iSAMS's error documents are `<Message>` XML on both endpoints (the reference:
 * "same for XML and, as far as can be seen, JSON"), also with HTTP 200, so the JSON endpoint's
 * error must be read as XML to be classified; a server that answers the other format altogether is
 * read in it. Zero bytes are skipped too, so UTF-16 text is told by its first character.
 */
export function bodyFormat(head: Uint8Array, declared: 'xml' | 'json'): 'xml' | 'json' | undefined {
  let i = 0;
  if (head[0] === 0xef && head[1] === 0xbb && head[2] === 0xbf) i = 3;
  else if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff)) i = 2;
  for (; i < head.length; i++) {
    const b = head[i]!;
    if (b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d || b === 0x00) continue;
    if (b === 0x3c) return 'xml';
    if (b === 0x7b || b === 0x5b) return 'json';
    return declared;
  }
  return head.length >= SNIFF_LIMIT ? declared : undefined;
}

/**
 * Reads the start of `body` until {@link bodyFormat} can tell, and gives the format with the whole
 * body (the bytes read replayed first). Errors of the body are thrown as they come.
 */
export async function sniffBodyFormat(
  body: AsyncIterable<Uint8Array>,
  declared: 'xml' | 'json',
): Promise<{ format: 'xml' | 'json'; body: AsyncIterable<Uint8Array> }> {
  const it = body[Symbol.asyncIterator]();
  const head: Uint8Array[] = [];
  let seen = new Uint8Array(0);
  let format: 'xml' | 'json' | undefined;
  let ended = false;
  while (format === undefined) {
    const next = await it.next();
    if (next.done) {
      ended = true;
      break;
    }
    head.push(next.value);
    seen = Buffer.concat([seen, next.value.subarray(0, SNIFF_LIMIT - seen.length)]);
    format = bodyFormat(seen, declared);
  }
  return { format: format ?? declared, body: replayed(head, it, ended) };
}

async function* replayed(
  head: readonly Uint8Array[],
  rest: AsyncIterator<Uint8Array>,
  ended: boolean,
): AsyncGenerator<Uint8Array> {
  try {
    yield* head;
    if (ended) return;
    for (;;) {
      const next = await rest.next();
      if (next.done) return;
      yield next.value;
    }
  } finally {
    if (!ended) await rest.return?.();
  }
}
