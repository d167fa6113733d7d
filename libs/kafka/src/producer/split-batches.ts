import type { Message } from 'kafkajs';

const sizeOf = (v: Message['key'] | Message['value']): number =>
  v === null || v === undefined ? 0 : typeof v === 'string' ? Buffer.byteLength(v) : v.length;

/** Splits messages, in order, into batches of at most `maxCount` records and about `maxBytes` bytes. */
export function splitBatches(messages: readonly Message[], maxCount: number, maxBytes: number): Message[][] {
  const batches: Message[][] = [];
  let current: Message[] = [];
  let bytes = 0;
  for (const m of messages) {
    let size = 70 + sizeOf(m.key) + sizeOf(m.value);
    for (const [k, v] of Object.entries(m.headers ?? {}))
      size += k.length + (Array.isArray(v) ? v.reduce((n, x) => n + sizeOf(x), 0) : sizeOf(v as never));
    if (current.length > 0 && (current.length >= maxCount || bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(m);
    bytes += size;
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
