import { describe, expect, it } from 'vitest';
import { CompactIdSet } from '../src/parser/compact-id-set';

describe('CompactIdSet', () => {
  it('answers whether each id was already added, through many growths of its table', () => {
    const set = new CompactIdSet();
    const ids = Array.from({ length: 20_000 }, (_, i) => (i % 3 === 0 ? `${i}` : `id-${i}-ë✓`));
    expect(ids.map((id) => set.add(id)).every(Boolean)).toBe(true);
    expect(set.size).toBe(ids.length);
    expect(ids.filter((id) => set.add(id))).toEqual([]);
    expect(set.add('')).toBe(true);
    expect(set.add('')).toBe(false);
    expect(set.size).toBe(ids.length + 1);
  });

  it('addJoined adds the same entry as add of the parts joined by "|"', () => {
    const joined = new CompactIdSet();
    const plain = new CompactIdSet();
    const keys: [string, string, string?][] = [
      ['12', '34'],
      ['1', '234'],
      ['12', '34', ''],
      ['12', '', '34'],
      ['', ''],
      ['7', 'Zoë', 'True'],
    ];
    for (const parts of keys) {
      const text = parts.filter((p) => p !== undefined).join('|');
      expect(joined.addJoined(...parts), text).toBe(true);
      expect(plain.add(text), text).toBe(true);
      // Either way of adding finds the entry the other made.
      expect(plain.addJoined(...parts), text).toBe(false);
      expect(joined.add(text), text).toBe(false);
    }
    expect(joined.size).toBe(keys.length);
    expect(plain.size).toBe(keys.length);
  });
});
