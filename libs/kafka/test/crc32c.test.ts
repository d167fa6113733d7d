import { createRequire } from 'node:module';
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';

// patches/kafkajs+2.2.4.patch: kafkajs's CRC-32C of each record batch (JavaScript, byte at a time) is
// computed eight bytes a step (slice-by-8). The checksum must stay bit for bit the one Kafka checks.
const require = createRequire(import.meta.url);
const crc32C = require('kafkajs/src/protocol/recordBatch/crc32C/index.js') as (buffer: Buffer) => number;

/** CRC-32C bit by bit from its reflected polynomial (RFC 3720 §B.4): the reference. */
function referenceCrc32C(buffer: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of buffer) {
    crc ^= byte;
    for (let k = 0; k < 8; k++) crc = crc & 1 ? (crc >>> 1) ^ 0x82f63b78 : crc >>> 1;
  }
  return (crc ^ 0xffffffff) >>> 0;
}

describe('kafkajs CRC-32C, as patched', () => {
  it('gives the standard check value and RFC 3720’s test vectors', () => {
    expect(crc32C(Buffer.from('123456789'))).toBe(0xe3069283);
    expect(crc32C(Buffer.alloc(32, 0))).toBe(0x8a9136aa);
    expect(crc32C(Buffer.alloc(32, 0xff))).toBe(0x62a8ab43);
    expect(crc32C(Buffer.from(Array.from({ length: 32 }, (_, i) => i)))).toBe(0x46dd794e);
    expect(crc32C(Buffer.alloc(0))).toBe(0);
  });

  it('equals the bit-by-bit reference for every length around the 8-byte steps, at any offset', () => {
    const pool = randomBytes(4096);
    for (let length = 0; length <= 70; length++)
      for (const offset of [0, 1, 3, 7]) {
        const view = pool.subarray(offset, offset + length);
        expect(crc32C(view)).toBe(referenceCrc32C(view));
      }
    const large = randomBytes(1_000_003);
    expect(crc32C(large)).toBe(referenceCrc32C(large));
  });
});
