import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/diff';
import { imageHash } from '../../src/use-cases/records';

/**
 * The first version of `canonicalJson` (map, filter and join), kept here as the reference: every
 * content hash in a school's manifest and entity documents was taken over its text, so the faster
 * version must give the same string for every value, or every stored entity would look changed.
 */
function referenceCanonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(referenceCanonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const keys = Object.keys(value).sort();
    return `{${keys
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .map((k) => `${JSON.stringify(k)}:${referenceCanonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
}

/** A small deterministic generator (mulberry32), so a failure names a seed that reproduces it. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = [
  '',
  'Smith',
  "O'Brien",
  'Zoë',
  'line\nbreak',
  'quote "q"',
  'back\\slash',
  '\u0000\u001f',
  '😀',
  '\ud800',
];
const NUMBERS = [0, -0, 1, -1, 3.5, 1e21, 2 ** 53, Number.NaN, Number.POSITIVE_INFINITY, 12345678];
const KEYS = ['id', 'surname', 'forename', 'a', 'B', 'b', '10', '2', 'é', '__proto_', 'roles', 'x y'];

function value(next: () => number, depth: number): unknown {
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(next() * xs.length)]!;
  const kind = Math.floor(next() * (depth > 3 ? 6 : 8));
  switch (kind) {
    case 0:
      return pick(STRINGS);
    case 1:
      return pick(NUMBERS);
    case 2:
      return next() < 0.5;
    case 3:
      return null;
    case 4:
      return undefined;
    case 5:
      return new Date(Math.floor(next() * 2e12));
    case 6: {
      const n = Math.floor(next() * 5);
      return Array.from({ length: n }, () => value(next, depth + 1));
    }
    default: {
      const o: Record<string, unknown> = {};
      const n = Math.floor(next() * 6);
      for (let i = 0; i < n; i++) o[pick(KEYS)] = value(next, depth + 1);
      return o;
    }
  }
}

describe('canonicalJson', () => {
  it('gives the reference text for 5,000 random values (key orders, undefined, escapes, nesting)', () => {
    for (let seed = 1; seed <= 5000; seed++) {
      const v = value(random(seed), 0);
      expect(canonicalJson(v), `seed ${seed}`).toBe(referenceCanonicalJson(v));
    }
  });

  it('pins the text of an image: sorted keys, undefined fields left out, arrays in order', () => {
    const image = {
      surname: 'Smith',
      id: '7',
      middle: undefined,
      roles: [{ name: 'Tutor', id: '4' }, undefined, null],
      tags: [],
    };
    expect(canonicalJson(image)).toBe(
      '{"id":"7","roles":[{"id":"4","name":"Tutor"},,null],"surname":"Smith","tags":[]}',
    );
    expect(canonicalJson(image)).toBe(referenceCanonicalJson(image));
  });

  it('the image hash is SHA-1 (base64url) of that text, as every stored hash was taken', () => {
    const image = { id: '7', surname: 'Smith', forename: 'Zoë', roles: [{ name: 'Tutor', id: '4' }] };
    expect(imageHash(image)).toBe(
      createHash('sha1').update(referenceCanonicalJson(image)).digest('base64url'),
    );
    // Worked out apart from this code: sha1 of the sorted JSON, base64url without padding.
    expect(imageHash(image)).toBe('yFQJ-GY-XhjOhcluu4CQjKfZNsI');
  });
});
