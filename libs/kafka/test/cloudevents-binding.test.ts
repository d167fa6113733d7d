import { describe, expect, it } from 'vitest';
import { platformPingV1 } from '@isams-sync/events';
import { fromKafkaMessage, KafkaErrors, toKafkaMessage } from '../src/index';
import type { KafkaIncomingMessage } from '../src/index';

const event = platformPingV1.create({
  tenantId: 'school-1',
  idParts: ['r1', '1'],
  subject: 'ping-1',
  syncRunId: 'r1',
  time: '2025-03-04T05:06:07.000Z',
  data: { message: 'hi', sequence: 1 },
});

const asReceived = (m: ReturnType<typeof toKafkaMessage>): KafkaIncomingMessage => ({
  key: Buffer.from(m.key),
  value: Buffer.from(m.value),
  headers: Object.fromEntries(Object.entries(m.headers).map(([k, v]) => [k, Buffer.from(v)])),
});

describe('toKafkaMessage (binary mode)', () => {
  it('puts attributes into ce_ headers, data into the value and the tenant into the key', () => {
    const m = toKafkaMessage(event);
    expect(m.key).toBe('school-1');
    expect(JSON.parse(m.value)).toEqual({ message: 'hi', sequence: 1 });
    expect(m.headers).toEqual({
      ce_specversion: '1.0',
      ce_id: event.id,
      ce_source: '/isams-sync/platform',
      ce_type: 'com.schoolcloud.isams-sync.platform.ping.v1',
      ce_time: '2025-03-04T05:06:07.000Z',
      ce_subject: 'ping-1',
      ce_tenantid: 'school-1',
      ce_syncrunid: 'r1',
      ce_dataschema: platformPingV1.dataschema,
      'content-type': 'application/json',
    });
  });

  it('omits optional headers and accepts a key override', () => {
    const { subject: _s, syncrunid: _r, ...bare } = event;
    const m = toKafkaMessage(bare, { key: 'school-1/ping-1' });
    expect(m.key).toBe('school-1/ping-1');
    expect(m.headers).not.toHaveProperty('ce_subject');
    expect(m.headers).not.toHaveProperty('ce_syncrunid');
  });
});

describe('fromKafkaMessage', () => {
  it('round-trips an event', () => {
    expect(fromKafkaMessage(asReceived(toKafkaMessage(event)))).toEqual(event);
  });

  it('accepts a charset parameter on content-type and string header values', () => {
    const m = toKafkaMessage(event);
    expect(
      fromKafkaMessage({
        ...m,
        headers: { ...m.headers, 'content-type': 'application/json; charset=utf-8' },
      }),
    ).toEqual(event);
  });

  it.each(['ce_id', 'ce_type', 'ce_tenantid', 'ce_specversion', 'ce_source', 'ce_time'])(
    'rejects a message without %s',
    (h) => {
      const m = asReceived(toKafkaMessage(event));
      delete m.headers![h];
      expect(() => fromKafkaMessage(m)).toThrow(
        expect.objectContaining({ code: 'KAFKA_MESSAGE_INVALID', message: expect.stringContaining(h) }),
      );
    },
  );

  it('accepts a key of its tenant or of its tenant and a subject (compacted topics)', () => {
    const m = asReceived(toKafkaMessage(event, { key: 'school-1/ping-1' }));
    expect(fromKafkaMessage(m)).toEqual(event);
    expect(fromKafkaMessage({ ...m, key: 'school-1' })).toEqual(event);
  });

  it.each([
    ['another tenant', Buffer.from('school-2')],
    ['another tenant and a subject', Buffer.from('school-2/ping-1')],
    ['a tenant that only starts like it', Buffer.from('school-10')],
    ['no key', null],
    ['an empty key', Buffer.alloc(0)],
  ])('rejects a record keyed by %s, not by its ce_tenantid', (_what, key) => {
    const m = asReceived(toKafkaMessage(event));
    expect(() => fromKafkaMessage({ ...m, key })).toThrow(
      expect.objectContaining({ code: 'KAFKA_MESSAGE_INVALID', message: expect.stringContaining('key') }),
    );
  });

  it('rejects a non-JSON value and an empty value', () => {
    const m = asReceived(toKafkaMessage(event));
    expect(() => fromKafkaMessage({ ...m, value: Buffer.from('not json{') })).toThrow(/not JSON/);
    expect(() => fromKafkaMessage({ ...m, value: null })).toThrow(/empty value/);
  });

  it('rejects a non-JSON content type', () => {
    const m = asReceived(toKafkaMessage(event));
    m.headers!['content-type'] = Buffer.from('application/avro');
    expect(() => fromKafkaMessage(m)).toThrow(/content-type/);
  });

  it('rejects an invalid envelope attribute', () => {
    const m = asReceived(toKafkaMessage(event));
    m.headers!.ce_specversion = Buffer.from('0.3');
    let caught: unknown;
    try {
      fromKafkaMessage(m);
    } catch (e) {
      caught = e;
    }
    expect(KafkaErrors.KAFKA_MESSAGE_INVALID.is(caught)).toBe(true);
  });
});
