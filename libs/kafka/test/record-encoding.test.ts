import { createRequire } from 'node:module';
import { describe, expect, it, vi } from 'vitest';

/* eslint-disable @typescript-eslint/no-explicit-any -- kafkajs's protocol modules are untyped JS */
const require = createRequire(import.meta.url);
const Encoder = require('kafkajs/src/protocol/encoder');
const Header = require('kafkajs/src/protocol/recordBatch/header/v0');
const Record = require('kafkajs/src/protocol/recordBatch/record/v0');
const RecordDecoder = require('kafkajs/src/protocol/recordBatch/record/v0/decoder');
const Decoder = require('kafkajs/src/protocol/decoder');

type Headers = Record<string, string | Buffer | (string | Buffer)[]>;
interface RecordInput {
  offsetDelta?: number;
  timestampDelta?: number;
  key: Buffer | string | null;
  value: Buffer | string | null;
  headers?: Headers;
}

/**
 * kafkajs 2.2.4's own record encoding (before patches/kafkajs+2.2.4.patch), the reference. It writes
 * through kafkajs's `Encoder`, whose varints the patch also changes; varint-encoding.test.ts checks
 * those against upstream's code, so the reference's bytes are upstream's.
 */
function upstreamRecord({
  offsetDelta = 0,
  timestampDelta = 0,
  key,
  value,
  headers = {},
}: RecordInput): Buffer {
  const headersArray = Object.keys(headers).flatMap((k) => {
    const v = headers[k]!;
    return Array.isArray(v) ? v.map((one) => ({ key: k, value: one })) : [{ key: k, value: v }];
  });
  let headerSize = Encoder.sizeOfVarInt(headersArray.length);
  for (const h of headersArray) {
    const keySize = Buffer.byteLength(h.key);
    const valueSize = Buffer.byteLength(h.value);
    headerSize += Encoder.sizeOfVarInt(keySize) + keySize + Encoder.sizeOfVarInt(valueSize) + valueSize;
  }
  const sizeOfBody =
    1 +
    Encoder.sizeOfVarLong(timestampDelta) +
    Encoder.sizeOfVarInt(offsetDelta) +
    Encoder.sizeOfVarIntBytes(key) +
    Encoder.sizeOfVarIntBytes(value) +
    headerSize;
  return new Encoder()
    .writeVarInt(sizeOfBody)
    .writeInt8(0)
    .writeVarLong(timestampDelta)
    .writeVarInt(offsetDelta)
    .writeVarIntBytes(key)
    .writeVarIntBytes(value)
    .writeVarIntArray(headersArray.map(Header)).buffer;
}

/** A CloudEvents record as libs/kafka sends one (binary mode: the attributes as `ce_` headers). */
function cloudEventRecord(i: number, valueBytes: number): RecordInput {
  return {
    offsetDelta: i,
    timestampDelta: i * 3,
    key: `school-${i % 7}`,
    value: JSON.stringify({ id: `p-${i}`, name: 'Zoë Ó Briain — ✓'.repeat(1 + (valueBytes >> 4)) }),
    headers: {
      ce_specversion: '1.0',
      ce_id: `0b7c${i}-5e2a-5d0f-9c1e-7a1b2c3d4e5f`,
      ce_source: '/isams-sync/roster',
      ce_type: 'com.schoolcloud.isams-sync.roster.pupil.updated.v1',
      ce_time: '2026-12-04T23:45:27.168Z',
      ce_dataschema: 'https://schemas.example/roster.pupil.updated.v1.json',
      ce_tenantid: `school-${i % 7}`,
      ce_subject: `pupil/${i}`,
      ce_syncrunid: '3f1c2f7a-8b7e-4f4e-9a55-1f0a5d3c2b1a',
      'content-type': 'application/json',
    },
  };
}

describe('kafkajs record encoding (patched: one buffer per record)', () => {
  const cases: [string, RecordInput][] = [
    ['no headers, no key', { key: null, value: 'v' }],
    ['an empty value and an empty header', { key: 'k', value: '', headers: { a: '' } }],
    [
      'Buffer key, value and header values',
      { key: Buffer.from([0, 1, 2]), value: Buffer.alloc(300, 7), headers: { b: Buffer.from('xyz') } },
    ],
    [
      'a header given several values',
      { key: 'k', value: 'v', headers: { multi: ['one', Buffer.from('two'), 'drei'] } },
    ],
    [
      'multi-byte text in keys, values and headers',
      { key: 'ключ', value: '値'.repeat(200), headers: { 'naïve-ĥeader': '✓✓✓' } },
    ],
    ['a null value (a tombstone)', { key: 'k', value: null, headers: { ce_id: 'x' } }],
    ['large deltas', { offsetDelta: 70_000, timestampDelta: 5_000_000_000, key: 'k', value: 'v' }],
    ...[0, 1, 40, 400, 5000].map((bytes, i): [string, RecordInput] => [
      `a CloudEvents record, ~${bytes}-byte data`,
      cloudEventRecord(i * 131, bytes),
    ]),
  ];

  it.each(cases)('writes the same bytes as upstream: %s', (_what, input) => {
    const ours: Buffer = Record(input).buffer;
    expect(ours.equals(upstreamRecord(input))).toBe(true);
    // and kafkajs's own decoder reads it back
    const decoder = new Decoder(ours);
    decoder.readVarInt();
    const decoded: any = RecordDecoder(decoder, { firstOffset: '0', firstTimestamp: '0', magicByte: 2 });
    expect(decoded.offset).toBe(String(input.offsetDelta ?? 0));
    expect(Object.keys(decoded.headers).sort()).toEqual(Object.keys(input.headers ?? {}).sort());
  });

  it('allocates one buffer per record, sized for it (upstream: one per header and regrowth)', () => {
    const input = cloudEventRecord(3, 400);
    const alloc = vi.spyOn(Buffer, 'alloc');
    try {
      const encoder = Record(input);
      expect(alloc).toHaveBeenCalledTimes(1);
      expect(encoder.offset).toBe(upstreamRecord(input).length);
    } finally {
      alloc.mockRestore();
    }
  });
});
