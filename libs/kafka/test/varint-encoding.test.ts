import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';

const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder');
const Decoder = require('kafkajs/src/protocol/decoder');
const Long = require('kafkajs/src/utils/long');

// patches/kafkajs+2.2.4.patch: kafkajs's Encoder writes a varint's bytes straight into its buffer
// (upstream: an array, then a Buffer.from of it, per varint) and a small number's varlong in 32-bit
// arithmetic (upstream: Long objects). The bytes must be upstream's, kept here as the reference.

/** kafkajs 2.2.4's writeUVarInt (before the patch). */
function upstreamUVarInt(value: number): Buffer {
  const byteArray: number[] = [];
  while ((value & 0xffffff80) !== 0) {
    byteArray.push((value & 0x7f) | 0x80);
    value >>>= 7;
  }
  byteArray.push(value & 0x7f);
  return Buffer.from(byteArray);
}
const upstreamVarInt = (value: number) => upstreamUVarInt((value << 1) ^ (value >> 31));

/** kafkajs 2.2.4's writeVarLong (before the patch). */
function upstreamVarLong(value: number | string): Buffer {
  const byteArray: number[] = [];
  const v = Long.fromValue(value);
  let longValue = v.shiftLeft(1).xor(v.shiftRight(63));
  while (longValue.and(0xffffffffffffff80n).notEquals(Long.fromInt(0))) {
    byteArray.push(longValue.and(0x7f).or(0x80).toInt());
    longValue = longValue.shiftRightUnsigned(7);
  }
  byteArray.push(longValue.toInt());
  return Buffer.from(byteArray);
}

const edges = [0, 1, 2, 63, 64, 127, 128, 255, 8191, 8192, 16383, 16384, 2 ** 20, 2 ** 21, 2 ** 27, 2 ** 28];
const ints = [
  ...edges.flatMap((v) => [v, -v, v - 1, -v - 1]),
  2 ** 30 - 1,
  -(2 ** 30),
  2 ** 30,
  -(2 ** 30) - 1,
  2 ** 31 - 1,
  -(2 ** 31),
];
const longs = [...ints, 2 ** 31, -(2 ** 31) - 1, 2 ** 40, -(2 ** 40), 1_733_000_000_000, -1_733_000_000_000];

describe('kafkajs varints, as patched', () => {
  it('writes upstream’s bytes for every signed and unsigned varint around the 7-bit steps', () => {
    for (const v of ints) {
      expect(new Encoder().writeVarInt(v).buffer).toEqual(upstreamVarInt(v));
      expect(Encoder.sizeOfVarInt(v)).toBe(upstreamVarInt(v).length);
      if (v >= 0) expect(new Encoder().writeUVarInt(v).buffer).toEqual(upstreamUVarInt(v));
    }
  });

  it('writes upstream’s bytes for varlongs, small numbers by the 32-bit path and large ones by Long', () => {
    for (const v of longs) {
      expect(new Encoder().writeVarLong(v).buffer).toEqual(upstreamVarLong(v));
      expect(Encoder.sizeOfVarLong(v)).toBe(upstreamVarLong(v).length);
      expect(new Decoder(new Encoder().writeVarLong(v).buffer).readVarLong().toString()).toBe(String(v));
    }
  });

  it('fills an exactly sized buffer without growing it, and allocates nothing per varint', () => {
    const values = [0, 300, -70_000, 2 ** 31 - 1];
    const want = Buffer.concat(values.map(upstreamVarInt));
    const encoder = new Encoder(values.reduce((n, v) => n + Encoder.sizeOfVarInt(v), 0));
    const alloc = vi.spyOn(Buffer, 'alloc');
    const from = vi.spyOn(Buffer, 'from');
    try {
      for (const v of values) encoder.writeVarInt(v);
      expect(alloc).not.toHaveBeenCalled();
      expect(from).not.toHaveBeenCalled();
    } finally {
      alloc.mockRestore();
      from.mockRestore();
    }
    expect(encoder.buffer).toEqual(want);
  });
});
