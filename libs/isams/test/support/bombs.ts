/**
 * Hostile Batch API documents ("bombs"), generated piece by piece so that building one costs no
 * memory: the memory a parser spends on them is its own. Used by hostile-documents tests (each in a
 * child process with a small heap) and by bench/hostile-documents.bench.ts.
 */

/** The bombs, by name. */
export const BOMBS = {
  /** 1,000,000 nested elements inside one pupil record (~3 MB of XML). */
  'depth-xml': { format: 'xml', about: '1,000,000 nested elements in one record (~4 MB)' },
  /** 1,000,000 nested arrays inside one pupil record. */
  'depth-json': { format: 'json', about: '1,000,000 nested arrays in one record (~2 MB)' },
  /** One pupil record with 4,000,000 empty child elements (~20 MB). */
  'record-xml': { format: 'xml', about: 'one record with 4,000,000 empty children (~20 MB)' },
  /** One pupil field holding a 40 MB string. */
  'text-json': { format: 'json', about: 'one 40 MB string value' },
  /** 4,000,000 tiny pupil rows with distinct ids (~80 MB): the duplicate-id set bomb. */
  'rows-xml': { format: 'xml', about: '4,000,000 tiny rows with distinct ids (~80 MB)' },
  /** 4,000,000 tiny pupil rows without ids (~40 MB): no duplicate set, only the count. */
  'count-xml': { format: 'xml', about: '4,000,000 tiny rows without ids (~40 MB)' },
  /** 4,000,000 elements that are not rows (`<Pupl/>`) in the pupils container: each one a record. */
  'others-xml': { format: 'xml', about: '4,000,000 elements that are not rows (~170 MB)' },
  /** The same in JSON: 4,000,000 items of a list under a key beside "Pupil". */
  'others-json': { format: 'json', about: '4,000,000 items under a key that is not the row name (~44 MB)' },
} as const satisfies Record<string, { format: 'xml' | 'json'; about: string }>;

export type BombName = keyof typeof BOMBS;

/** Repeats `piece` `times` times, in chunks of about 64 kB. */
function* repeat(piece: string | ((i: number) => string), times: number): Generator<string> {
  let buf = '';
  for (let i = 0; i < times; i++) {
    buf += typeof piece === 'string' ? piece : piece(i);
    if (buf.length >= 64 * 1024) {
      yield buf;
      buf = '';
    }
  }
  if (buf.length > 0) yield buf;
}

const XML_HEAD = '<?xml version="1.0" encoding="utf-8"?><iSAMS><PupilManager><CurrentPupils>';
const XML_TAIL = '</CurrentPupils></PupilManager></iSAMS>';

/** The bomb's text, as an async stream of string chunks. */
export async function* bomb(name: BombName): AsyncGenerator<string> {
  switch (name) {
    case 'depth-xml':
      yield `${XML_HEAD}<Pupil Id="1">`;
      yield* repeat('<a>', 1_000_000);
      yield* repeat('</a>', 1_000_000);
      yield `</Pupil>${XML_TAIL}`;
      return;
    case 'depth-json':
      yield '{"iSAMS":{"PupilManager":{"CurrentPupils":{"Pupil":{"@Id":"1","Deep":';
      yield* repeat('[', 1_000_000);
      yield* repeat(']', 1_000_000);
      yield '}}}}}';
      return;
    case 'record-xml':
      yield `${XML_HEAD}<Pupil Id="1">`;
      yield* repeat('<b/>', 4_000_000);
      yield `</Pupil>${XML_TAIL}`;
      return;
    case 'text-json':
      yield '{"iSAMS":{"PupilManager":{"CurrentPupils":{"Pupil":{"@Id":"1","Forename":"';
      yield* repeat('x'.repeat(1024), 40 * 1024);
      yield '"}}}}}';
      return;
    case 'rows-xml':
      yield XML_HEAD;
      yield* repeat((i) => `<Pupil Id="${1_000_000 + i}"/>`, 4_000_000);
      yield XML_TAIL;
      return;
    case 'count-xml':
      yield XML_HEAD;
      yield* repeat('<Pupil/>', 4_000_000);
      yield XML_TAIL;
      return;
    case 'others-xml':
      yield XML_HEAD;
      yield* repeat('<Pupl Id="1"><Forename>A</Forename></Pupl>', 4_000_000);
      yield XML_TAIL;
      return;
    case 'others-json':
      yield '{"iSAMS":{"PupilManager":{"CurrentPupils":{"Pupil":{"@Id":"1"},"Pupl":[null';
      yield* repeat(',{"@Id":"2"}', 4_000_000);
      yield ']}}}}';
      return;
  }
}
