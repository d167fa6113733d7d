import { chunkOf } from '../../src/adapters/mongo/documents';

/** A deterministic pseudo-random generator (xorshift32), so a failure is reproducible. */
function randomOf(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

/**
 * `count` distinct ids of 200 CJK ideographs (the longest id the reader admits, `ID_MAX_CHARS`, of
 * text that does not compress: a form is keyed by its name) that all fall in manifest chunk `chunk`.
 */
export function longIds(count: number, chunk: number, seed = 1): string[] {
  const random = randomOf(seed);
  const out = new Set<string>();
  while (out.size < count) {
    let id = '';
    for (let i = 0; i < 200; i += 1) id += String.fromCharCode(0x4e00 + Math.floor(random() * 0x51a0));
    if (chunkOf(id) === chunk) out.add(id);
  }
  return [...out];
}
