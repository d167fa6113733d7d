import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  createEventRegistry,
  defineEventType,
  deterministicEventId,
  EventErrors,
  isEventTypeName,
  platformPingV1,
  registry,
} from '../src/index';

const base = { tenantId: 'school-7', idParts: ['run-1', '1'], data: { message: 'hello', sequence: 1 } };

describe('defineEventType().create', () => {
  it('builds a full CloudEvents 1.0 envelope with a deterministic id', () => {
    const ev = platformPingV1.create({
      ...base,
      subject: 'ping-1',
      syncRunId: 'run-1',
      time: '2025-01-02T03:04:05.000Z',
    });
    expect(ev).toEqual({
      specversion: '1.0',
      id: deterministicEventId(platformPingV1.type, 'school-7', 'run-1', '1'),
      source: '/isams-sync/platform',
      type: 'com.schoolcloud.isams-sync.platform.ping.v1',
      subject: 'ping-1',
      time: '2025-01-02T03:04:05.000Z',
      datacontenttype: 'application/json',
      dataschema:
        'https://schemas.schoolcloud.example/isams-sync/com.schoolcloud.isams-sync.platform.ping.v1/1.0.0.json',
      tenantid: 'school-7',
      syncrunid: 'run-1',
      data: { message: 'hello', sequence: 1 },
    });
  });

  it('refuses a schemaVersion whose major is not the type version', () => {
    const define = (schemaVersion: string) =>
      defineEventType({
        type: 'com.schoolcloud.isams-sync.test.thing.v2',
        source: '/isams-sync/test',
        description: 'test',
        schema: z.object({}),
        schemaVersion,
      });
    expect(define('2.3.0').dataschema).toBe(
      'https://schemas.schoolcloud.example/isams-sync/com.schoolcloud.isams-sync.test.thing.v2/2.3.0.json',
    );
    expect(() => define('1.0.0')).toThrow(/major 2/);
    expect(() => define('2.0')).toThrow(/semver/);
  });

  it('keeps the id across re-sends at different times', () => {
    const a = platformPingV1.create({ ...base, time: new Date(0) });
    const b = platformPingV1.create({ ...base });
    expect(a.id).toBe(b.id);
    expect(a.time).not.toBe(b.time);
  });

  it('rejects bad data with EVENT_DATA_INVALID naming the field', () => {
    const bad = { ...base, data: { message: '', sequence: -1 } };
    let caught: unknown;
    try {
      platformPingV1.create(bad);
    } catch (e) {
      caught = e;
    }
    expect(EventErrors.EVENT_DATA_INVALID.is(caught)).toBe(true);
    expect((caught as Error).message).toMatch(/message/);
    expect((caught as Error).message).toMatch(/sequence/);
  });

  it('rejects an empty tenant id', () => {
    expect(() => platformPingV1.create({ ...base, tenantId: '' })).toThrow(/tenantid/);
  });
});

describe('defineEventType().parse', () => {
  it('round-trips through JSON', () => {
    const ev = platformPingV1.create(base);
    expect(platformPingV1.parse(JSON.parse(JSON.stringify(ev)))).toEqual(ev);
  });

  it('rejects a different type with EVENT_TYPE_MISMATCH', () => {
    const other = defineEventType({
      type: 'com.example.other.v2',
      source: '/x',
      description: 'x',
      schema: z.object({}),
    });
    const ev = other.create({ tenantId: 't', idParts: ['1'], data: {} });
    expect(() => platformPingV1.parse(ev)).toThrow(expect.objectContaining({ code: 'EVENT_TYPE_MISMATCH' }));
  });

  it('rejects a broken envelope with EVENT_ENVELOPE_INVALID', () => {
    const ev = { ...platformPingV1.create(base), specversion: '0.3' };
    expect(() => platformPingV1.parse(ev)).toThrow(
      expect.objectContaining({ code: 'EVENT_ENVELOPE_INVALID' }),
    );
    const noTenant: Record<string, unknown> = { ...platformPingV1.create(base) };
    delete noTenant.tenantid;
    expect(() => platformPingV1.parse(noTenant)).toThrow(
      expect.objectContaining({ code: 'EVENT_ENVELOPE_INVALID' }),
    );
  });

  it('rejects bad data in an otherwise valid event', () => {
    const ev = { ...platformPingV1.create(base), data: { message: 'x' } };
    expect(() => platformPingV1.parse(ev)).toThrow(expect.objectContaining({ code: 'EVENT_DATA_INVALID' }));
  });
});

describe('event type names', () => {
  it.each(['com.schoolcloud.isams-sync.roster.pupil.removed.v1', 'a.b.v12'])('accepts %s', (t) => {
    expect(isEventTypeName(t)).toBe(true);
  });
  it.each(['com.schoolcloud.Roster.v1', 'com.schoolcloud.roster', 'com.schoolcloud.roster.v0', 'v1'])(
    'rejects %s',
    (t) => {
      expect(isEventTypeName(t)).toBe(false);
      expect(() =>
        defineEventType({ type: t, source: '/x', description: 'x', schema: z.object({}) }),
      ).toThrow(expect.objectContaining({ code: 'EVENT_DEFINITION_INVALID' }));
    },
  );
});

describe('registry', () => {
  it('lists the ping type and parses registered events', () => {
    expect(registry.types.map((t) => t.type)).toContain(platformPingV1.type);
    const ev = platformPingV1.create(base);
    expect(registry.parse(ev)).toEqual(ev);
  });

  it('rejects unknown types with EVENT_TYPE_UNKNOWN', () => {
    const ev = { ...platformPingV1.create(base), type: 'com.example.unknown.v1' };
    expect(() => registry.parse(ev)).toThrow(expect.objectContaining({ code: 'EVENT_TYPE_UNKNOWN' }));
  });

  it('refuses duplicate registrations', () => {
    expect(() => createEventRegistry([platformPingV1, platformPingV1])).toThrow(
      expect.objectContaining({ code: 'EVENT_DEFINITION_INVALID' }),
    );
  });
});
