import { describe, expect, it } from 'vitest';
import { splitBatches } from '../src/event-producer';

const msg = (valueBytes: number, key = 'k') => ({
  key,
  value: Buffer.alloc(valueBytes),
  headers: { h: 'x' },
});

describe('splitBatches', () => {
  it('keeps order and cuts at the record count', () => {
    const messages = Array.from({ length: 7 }, (_, i) => ({ ...msg(10), key: `k${i}` }));
    const batches = splitBatches(messages, 3, 1_000_000);
    expect(batches.map((b) => b.length)).toEqual([3, 3, 1]);
    expect(batches.flat().map((m) => m.key)).toEqual(messages.map((m) => m.key));
  });

  it('cuts before a batch would pass the byte cap, and sends an oversized record alone', () => {
    const batches = splitBatches([msg(400), msg(400), msg(400), msg(2000), msg(10)], 100, 1000);
    expect(batches.map((b) => b.map((m) => (m.value as Buffer).length))).toEqual([
      [400, 400],
      [400],
      [2000],
      [10],
    ]);
  });

  it('returns no batch for no message', () => {
    expect(splitBatches([], 10, 1000)).toEqual([]);
  });
});
